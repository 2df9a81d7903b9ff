/*
 * apierr_upstream — the upstream → browser error mapping (see
 * apierr_upstream.h). This file is the only place that decides which
 * entry of the table in lib/apierr.c a runtime's failure becomes.
 */
#include "apierr_upstream.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "wjson.h"
#include "wlog.h"
#include "xalloc.h"

/* A runtime error code we are willing to pass on: [a-z0-9_.]{1,64}. */
static bool
apierr_code_ok(const char *s)
{
	return ids_chars_valid(s, 64,
	    "abcdefghijklmnopqrstuvwxyz0123456789_.");
}

/* Case-insensitive: host names, schemes and "bearer" are, so a
 * runtime writing "RT.Example" must not slip past "rt.example". */
static bool
apierr_contains(const char *hay, const char *needle)
{
	return needle != NULL && needle[0] != '\0' &&
	    strcasestr(hay, needle) != NULL;
}

/* Whether msg holds any run of APIERR_TOKEN_RUN bytes of token: a
 * runtime echoing part of a wrong token must not reach the browser. */
#define APIERR_TOKEN_RUN 8
static bool
apierr_has_token_part(const char *msg, const char *token)
{
	size_t n;

	if (token == NULL)
		return false;
	n = strlen(token);
	if (n <= APIERR_TOKEN_RUN)
		return apierr_contains(msg, token);
	for (size_t i = 0; i + APIERR_TOKEN_RUN <= n; i++) {
		char run[APIERR_TOKEN_RUN + 1];

		memcpy(run, token + i, APIERR_TOKEN_RUN);
		run[APIERR_TOKEN_RUN] = '\0';
		if (strstr(msg, run) != NULL)
			return true;
	}
	return false;
}

/* Runtime text (an error code or message) as it may go to the operator
 * log: at most APIERR_LOG_TEXT bytes of it, in buf, or a fixed notice if
 * those hold a run of the runtime's token (a hostile runtime echoing the
 * token must not put it in the logs; STYLE: tokens are never logged).
 * Hosts and paths may stay: the log is the operator's. */
#define APIERR_LOG_TEXT 200
static const char *
apierr_log_text(const struct registry *reg, const struct registry_runtime *rt,
    const char *text, char *buf, size_t cap)
{
	if (text == NULL)
		return "-";
	snprintf(buf, cap, "%.*s", APIERR_LOG_TEXT, text);
	if (apierr_has_token_part(buf, registry_token(reg, rt)))
		return "(withheld: it holds part of the runtime's token)";
	return buf;
}

/* Whether s holds digits '.' digits '.' digits '.' digits anywhere,
 * whatever stands around it ("db10.0.0.5", "10.1.2.3failed"). */
static bool
apierr_has_dotted_quad(const char *s)
{
	for (; *s; s++) {
		const char *p = s;
		int parts = 0;

		while (*p >= '0' && *p <= '9') {
			while (*p >= '0' && *p <= '9')
				p++;
			if (++parts == 4)
				return true;
			if (*p != '.')
				break;
			p++;
		}
	}
	return false;
}

/* Whether msg looks like it names a network address: a dotted quad
 * (any spelling of an IPv4 address resolved from a runtime host) or
 * an IPv6-ish run of hex groups and ':' with at least two colons. The
 * run scan below reads hex letters as IPv6 and so missed a quad next
 * to one ("db10.0.0.5"): quads are looked for on their own first. */
static bool
apierr_has_address(const char *msg)
{
	if (apierr_has_dotted_quad(msg))
		return true;
	for (const char *p = msg; *p; p++) {
		int dots = 0, colons = 0, digits = 0, hex = 0;
		const char *q;

		for (q = p; *q; q++) {
			unsigned char ch = (unsigned char)*q;

			if (ch >= '0' && ch <= '9')
				digits++;
			else if (ch == '.')
				dots++;
			else if (ch == ':')
				colons++;
			else if (isxdigit(ch))
				hex++;
			else
				break;
		}
		if ((dots >= 3 && digits >= 4 && colons == 0 && hex == 0) ||
		    (colons >= 2 && digits + hex >= 2))
			return true;
		if (q > p)
			p = q - 1;
	}
	return false;
}

char *
apierr_scrub(const struct registry *reg, const char *msg)
{
	static const char *const urlish[] = { "://", "unix:", "/v1/",
	    "localhost", "Bearer" };
	size_t len;

	if (msg == NULL)
		return NULL;
	len = strlen(msg);
	if (len == 0 || len > 300)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c < 0x20 || c == 0x7f)
			return NULL;
	}
	for (size_t i = 0; i < sizeof(urlish) / sizeof(urlish[0]); i++)
		if (apierr_contains(msg, urlish[i]))
			return NULL;
	if (apierr_has_address(msg))
		return NULL;
	for (size_t i = 0; reg != NULL && i < reg->runtime_count; i++) {
		const struct registry_runtime *rt = &reg->runtimes[i];
		char port[16];

		if (apierr_contains(msg, rt->host) ||
		    apierr_contains(msg, rt->base_url) ||
		    apierr_contains(msg, rt->base_path) ||
		    apierr_contains(msg, rt->unix_path) ||
		    apierr_has_token_part(msg, registry_token(reg, rt)))
			return NULL;
		if (rt->port > 0) {
			snprintf(port, sizeof(port), "%d", rt->port);
			if (strstr(msg, port) != NULL)
				return NULL;
		}
	}
	return xstrdup(msg);
}

/* The runtime's error code as a browser may see it. A code is runtime
 * text just like a message: "127.0.0.1" or a host name is a perfectly
 * good [a-z0-9_.] identifier. So it must be a short identifier AND pass
 * the message scrub (addresses, hosts, ports, tokens, URL markers);
 * anything else is "unknown". Owned by the caller. */
static char *
apierr_runtime_code(const struct registry *reg, const char *code)
{
	char *s;

	if (!apierr_code_ok(code) || (s = apierr_scrub(reg, code)) == NULL)
		return xstrdup("unknown");
	return s;
}

size_t
apierr_parse_budget(const struct registry *reg)
{
	return wjson_cost_budget(reg->max_upstream_body_bytes, 0);
}

enum apierr_body
apierr_parse_body(const struct registry *reg, const struct upstream_call *c,
    struct json_object **root)
{
	*root = NULL;
	if (c->resp == NULL || c->resp_len == 0)
		return APIERR_BODY_EMPTY;
	/* Count before json-c builds anything: a 1 MiB body of "{}"s
	 * would otherwise become a quarter of a GiB of hash tables. */
	if (!wjson_cost_within(c->resp, c->resp_len,
	    apierr_parse_budget(reg)))
		return APIERR_BODY_TOO_COSTLY;
	*root = wjson_parse(c->resp, c->resp_len, WJSON_MAX_DEPTH);
	return *root != NULL ? APIERR_BODY_JSON : APIERR_BODY_NOT_JSON;
}

/* The code and message of a runtime's {"error": {"code", "message"}}
 * body, borrowed from root; *code is NULL if root is not one. */
static void
apierr_error_fields(struct json_object *root, const char **code,
    const char **message)
{
	struct json_object *err;

	*code = *message = NULL;
	if (root == NULL || !json_object_object_get_ex(root, "error", &err) ||
	    !json_object_is_type(err, json_type_object))
		return;
	*code = wjson_get_string(err, "code");
	if (*code != NULL)
		*message = wjson_get_string(err, "message");
}

void
apierr_upstream(const struct registry *reg,
    const struct registry_runtime *rt, const struct upstream_call *c,
    const char *request_id, struct apierr_upstream *out)
{
	struct json_object *root = NULL;
	const char *code = NULL, *message = NULL;
	char lcode[APIERR_LOG_TEXT + 1], lmsg[APIERR_LOG_TEXT + 1];
	enum apierr_body body;

	memset(out, 0, sizeof(*out));
	switch (c->err) {
	case UPSTREAM_OK:
		break;
	case UPSTREAM_ERR_UNREACHABLE:
		out->err = APIERR_RUNTIME_UNREACHABLE;
		goto logcurl;
	case UPSTREAM_ERR_TIMEOUT:
		out->err = APIERR_RUNTIME_TIMEOUT;
		goto logcurl;
	case UPSTREAM_ERR_TLS:
		out->err = APIERR_RUNTIME_TLS_FAILED;
		goto logcurl;
	case UPSTREAM_ERR_TOO_LARGE:
	case UPSTREAM_ERR_BAD_RESPONSE:
		out->err = APIERR_RUNTIME_BAD_RESPONSE;
		goto logcurl;
	}

	if (c->status >= 200 && c->status < 300) {
		out->err = APIERR_OK;
		goto out;
	}
	/* Parsed once, whatever the status asks of it. */
	body = apierr_parse_body(reg, c, &root);
	apierr_error_fields(root, &code, &message);
	if (c->status == 401) {
		out->err = APIERR_RUNTIME_AUTH_FAILED;
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime refused the token (HTTP 401) for %s", c->path);
	} else if (body == APIERR_BODY_TOO_COSTLY &&
	    !(c->status >= 500 && c->status < 600)) {
		/* Not read, so neither a rejection nor a router miss. */
		out->err = APIERR_RUNTIME_BAD_RESPONSE;
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime answered %s with HTTP %ld and a body over the "
		    "parse budget (%zu bytes)", c->path, c->status,
		    c->resp_len);
	} else if (c->status == 404 && code != NULL &&
	    strcmp(code, "worker_not_found") == 0) {
		out->err = APIERR_WORKER_NOT_FOUND;
	} else if ((c->status == 404 || c->status == 405) &&
	    (body == APIERR_BODY_EMPTY || body == APIERR_BODY_NOT_JSON)) {
		/* A plain router miss (a 404 or 405 with no JSON body;
		 * docs/api.md, runtime_unsupported): the runtime lacks the
		 * operation. Any JSON answer, even one without an error
		 * object, is the runtime speaking about this request, so it
		 * must not mark the operation unsupported for every
		 * browser. */
		out->err = APIERR_RUNTIME_UNSUPPORTED;
		out->unsupported = true;
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime does not implement %s (HTTP %ld)", c->path,
		    c->status);
	} else if ((c->status == 400 || c->status == 409) && code != NULL) {
		out->err = APIERR_RUNTIME_REJECTED;
		out->status = (int)c->status;
		out->runtime_code = apierr_runtime_code(reg, code);
		out->message = apierr_scrub(reg, message);
		if (out->message == NULL)
			out->message = xstrdup(
			    apierr_message(APIERR_RUNTIME_REJECTED));
		wlog(WLOG_INFO, request_id, rt->id,
		    "runtime rejected %s: HTTP %ld %s", c->path, c->status,
		    apierr_log_text(reg, rt, code, lcode, sizeof(lcode)));
	} else if (c->status >= 500 && c->status < 600) {
		out->err = APIERR_RUNTIME_ERROR;
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime failed %s: HTTP %ld %s: %s", c->path, c->status,
		    apierr_log_text(reg, rt, code, lcode, sizeof(lcode)),
		    message != NULL ? apierr_log_text(reg, rt, message, lmsg,
		    sizeof(lmsg)) : body == APIERR_BODY_TOO_COSTLY ?
		    "(body over the parse budget)" : "-");
	} else if (c->status >= 400 && c->status < 500) {
		out->err = APIERR_RUNTIME_ERROR;
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime answered %s with HTTP %ld %s", c->path,
		    c->status, code != NULL ? apierr_log_text(reg, rt, code,
		    lcode, sizeof(lcode)) : "(no error body)");
	} else {
		out->err = APIERR_RUNTIME_BAD_RESPONSE;
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime answered %s with unexpected HTTP %ld", c->path,
		    c->status);
	}
	goto out;

logcurl:
	wlog(WLOG_WARN, request_id, rt->id, "%s %s (%s): %s: %s",
	    c->post ? "POST" : "GET", c->path, rt->base_url,
	    upstream_strerror(c->err), c->detail);
out:
	if (out->status == 0)
		out->status = apierr_status(out->err);
	json_object_put(root);
}

void
apierr_upstream_clear(struct apierr_upstream *u)
{
	if (u == NULL)
		return;
	free(u->runtime_code);
	free(u->message);
	u->runtime_code = u->message = NULL;
}
