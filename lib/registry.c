/*
 * registry — load and validate the registry config (see registry.h).
 *
 * Validation is complete and fails on the first problem, naming it as
 * "FILE: key.path: reason". The parser is json-c in non-strict mode (for
 * comments) via wjson_parse_config; everything about the shape is checked
 * against the key table (registry_keys.c), so an unknown or misspelled key
 * stops startup instead of being silently ignored. This file holds the
 * loader, the public API and the handlers of top-level keys that need
 * more than a type and a range; runtimes are in registry_runtime.c,
 * printing in registry_print.c.
 *
 * Ownership: the registry owns every string in it; tokens are kept only in
 * struct registry_secrets and are wiped on free.
 */
#include "registry.h"
#include "registry_keys.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wjson.h"
#include "wlog.h"
#include "listenspec.h"
#include "xalloc.h"

#ifndef WRG_SYSCONFDIR
#define WRG_SYSCONFDIR "/etc"
#endif
#define REGISTRY_FILE_MAX (1024 * 1024)
#define REGISTRY_ORIGINS_MAX 256

/* ---- top-level keys ---------------------------------------------------- */

int
registry_check_prefix(struct registry_at *at)
{
	struct registry_ctx *ctx = at->ctx;
	const char *p = at->reg->api_prefix;

	/* (/segment)+ with URL-safe characters only: it is matched
	 * byte-for-byte against raw request paths. */
	if (p[0] != '/')
		return registry_fail(ctx, "api_prefix", "must start with '/'");
	for (size_t i = 0; p[i]; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '/' && (p[i + 1] == '/' || p[i + 1] == '\0'))
			return registry_fail(ctx, "api_prefix",
			    "must be /segment[/segment...] without a trailing "
			    "or doubled '/'");
		if (c != '/' && !isalnum(c) && strchr("._~-", c) == NULL)
			return registry_fail(ctx, "api_prefix",
			    "may only contain letters, digits, '/', '.', '_', "
			    "'~', '-'");
	}
	return 0;
}

int
registry_parse_log_format(struct registry_at *at)
{
	char *f = NULL;
	int r = registry_get_string(at->ctx, at->obj, at->path, "log_format",
	    16, &f);

	if (r <= 0)
		return r;
	if (strcmp(f, "json") == 0)
		at->reg->log_json = true;
	else if (strcmp(f, "text") != 0)
		r = registry_fail(at->ctx, "log_format",
		    "must be \"text\" or \"json\"");
	free(f);
	return r < 0 ? -1 : 0;
}

void
registry_url_free(struct registry_url *u)
{
	curl_free(u->scheme);
	curl_free(u->host);
	curl_free(u->port);
	curl_free(u->path);
	curl_free(u->user);
	curl_free(u->query);
	curl_free(u->fragment);
	memset(u, 0, sizeof(*u));
}

int
registry_url_parse(const char *s, struct registry_url *u)
{
	CURLU *h = curl_url();
	int ok = -1;

	memset(u, 0, sizeof(*u));
	if (h == NULL)
		return -1;
	if (curl_url_set(h, CURLUPART_URL, s, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(h, CURLUPART_SCHEME, &u->scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &u->port, CURLU_DEFAULT_PORT)
	    != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PATH, &u->path, 0) != CURLUE_OK)
		goto out;
	/* Absent parts are errors from curl_url_get; that is what we want. */
	curl_url_get(h, CURLUPART_USER, &u->user, 0);
	curl_url_get(h, CURLUPART_QUERY, &u->query, 0);
	curl_url_get(h, CURLUPART_FRAGMENT, &u->fragment, 0);
	ok = 0;
out:
	curl_url_cleanup(h);
	if (ok != 0)
		registry_url_free(u);
	return ok;
}

int
registry_parse_origins(struct registry_at *at)
{
	struct registry_ctx *ctx = at->ctx;
	struct registry *reg = at->reg;
	struct json_object *arr;
	int r = registry_get(ctx, at->obj, at->path, "allowed_origins",
	    json_type_array, &arr);
	size_t n;

	if (r <= 0)
		return r;
	n = json_object_array_length(arr);
	if (n > REGISTRY_ORIGINS_MAX)
		return registry_fail(ctx, "allowed_origins",
		    "at most %d entries", REGISTRY_ORIGINS_MAX);
	reg->allowed_origins = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		struct registry_url u;
		char key[64];
		const char *s;
		size_t len;
		int bad;

		snprintf(key, sizeof(key), "allowed_origins[%zu]", i);
		if (v == NULL || !json_object_is_type(v, json_type_string))
			return registry_fail(ctx, key, "must be a string");
		s = json_object_get_string(v);
		len = strlen(s);
		if (registry_url_parse(s, &u) != 0)
			return registry_fail(ctx, key,
			    "must be an origin like https://panel.example");
		bad = (strcmp(u.scheme, "http") != 0 &&
		    strcmp(u.scheme, "https") != 0) || u.user != NULL ||
		    u.query != NULL || u.fragment != NULL ||
		    strcmp(u.path, "/") != 0 ||
		    (len && s[len - 1] == '/');
		registry_url_free(&u);
		if (bad)
			return registry_fail(ctx, key,
			    "must be scheme://host[:port] with no path");
		reg->allowed_origins[i] = xstrdup(s);
		for (char *c = reg->allowed_origins[i]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		reg->allowed_origin_count = i + 1;
	}
	return 0;
}

/* After the fcgi keys: fcgi.metrics_path is compared byte for byte with
 * the request path, so URL-safe characters only, and outside api_prefix
 * (where every path is the browser API's). Runs after api_prefix is
 * known; fcgi.metrics_state must be absolute. */
int
registry_check_metrics(struct registry_at *at)
{
	struct registry_ctx *ctx = at->ctx;
	struct registry *reg = at->reg;
	const char *p = reg->fcgi_metrics_path;
	size_t plen = strlen(reg->api_prefix);

	if (reg->fcgi_metrics_state[0] != '/')
		return registry_fail(ctx, "fcgi.metrics_state",
		    "must be an absolute path");
	if (p == NULL)
		return 0;
	if (p[0] != '/')
		return registry_fail(ctx, "fcgi.metrics_path",
		    "must start with '/'");
	for (size_t i = 0; p[i]; i++)
		if (!isalnum((unsigned char)p[i]) &&
		    strchr("/._~-", p[i]) == NULL)
			return registry_fail(ctx, "fcgi.metrics_path",
			    "may only contain letters, digits, '/', '.', '_', "
			    "'~', '-'");
	if (strncmp(p, reg->api_prefix, plen) == 0 &&
	    (p[plen] == '\0' || p[plen] == '/'))
		return registry_fail(ctx, "fcgi.metrics_path",
		    "must be outside api_prefix (%s)", reg->api_prefix);
	return 0;
}

/* "unix:/abs/path" or "HOST:PORT" with a numeric IPv4, [IPv6] or
 * "localhost" host: s, the value of key, into *host and *port or *unix. */
static int
registry_parse_addr(struct registry_ctx *ctx, const char *key, const char *s,
    char **host_out, int *port_out, char **unix_out)
{
	struct listenspec ls;
	enum listenspec_err e = listenspec_parse(s, &ls);

	if (e != LISTENSPEC_OK)
		return registry_fail(ctx, key, "%s", listenspec_strerror(e));
	/* The fields take over ls's strings. */
	*host_out = ls.host;
	*port_out = ls.port;
	*unix_out = ls.unix_path;
	return 0;
}

/* After the wsproxy keys: the rules between them, and the listen
 * addresses parsed. */
int
registry_check_wsproxy(struct registry_at *at)
{
	struct registry_ctx *ctx = at->ctx;
	struct registry_wsproxy *ws = &at->reg->wsproxy;

	if (ws->reconnect_max_ms < ws->reconnect_initial_ms)
		return registry_fail(ctx, "wsproxy.reconnect_max_ms",
		    "must be at least reconnect_initial_ms (%u)",
		    ws->reconnect_initial_ms);
	if (ws->metrics_listen != NULL) {
		if (registry_parse_addr(ctx, "wsproxy.metrics_listen",
		    ws->metrics_listen, &ws->metrics_host, &ws->metrics_port,
		    &ws->metrics_unix) < 0)
			return -1;
		if (strcmp(ws->metrics_listen, ws->listen) == 0)
			return registry_fail(ctx, "wsproxy.metrics_listen",
			    "must differ from wsproxy.listen");
	}
	return registry_parse_addr(ctx, "wsproxy.listen", ws->listen,
	    &ws->listen_host, &ws->listen_port, &ws->listen_unix);
}

/* ---- public API ---------------------------------------------------------- */

const char *
registry_config_path(const char *cli_path)
{
	const char *env;

	if (cli_path != NULL)
		return cli_path;
	env = getenv("WRG_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return WRG_SYSCONFDIR "/wrg/wrg.conf";
}

/* Inline tokens were copied into the secrets table; zero json-c's
 * copies before they go back to the allocator. */
static void
registry_wipe_inline_tokens(struct json_object *root)
{
	struct json_object *arr, *rt, *tok;

	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "runtimes", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		rt = json_object_array_get_idx(arr, i);
		if (json_object_is_type(rt, json_type_object) &&
		    json_object_object_get_ex(rt, "token", &tok) &&
		    json_object_is_type(tok, json_type_string))
			explicit_bzero((char *)json_object_get_string(tok),
			    (size_t)json_object_get_string_len(tok));
	}
}

struct registry *
registry_load_buffer(const char *name, const char *text, size_t len,
    char **errmsg)
{
	struct registry_ctx ctx = { .file = name, .err = NULL };
	struct registry *reg = xcalloc(1, sizeof(*reg));
	struct registry_at at = { .ctx = &ctx, .reg = reg, .path = "" };
	struct json_object *root = NULL;
	char perr[256];

	reg->path = xstrdup(name);
	reg->secrets = xcalloc(1, sizeof(*reg->secrets));
	root = wjson_parse_config(text, len, perr, sizeof(perr));
	if (root == NULL) {
		registry_fail(&ctx, NULL, "%s", perr);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		registry_fail(&ctx, NULL, "the top level must be an object");
		goto out;
	}
	at.obj = root;
	registry_keys_parse(&at, REGISTRY_SECT_TOP);
out:
	registry_wipe_inline_tokens(root);
	json_object_put(root);
	if (ctx.err != NULL) {
		registry_free(reg);
		*errmsg = ctx.err;
		return NULL;
	}
	*errmsg = NULL;
	return reg;
}

struct registry *
registry_load_file(const char *path, char **errmsg)
{
	struct registry *reg = NULL;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*errmsg = xasprintf("%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	buf = xmalloc(REGISTRY_FILE_MAX + 1);
	while (len <= REGISTRY_FILE_MAX &&
	    (n = read(fd, buf + len, REGISTRY_FILE_MAX + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len > REGISTRY_FILE_MAX) {
		*errmsg = xasprintf("%s: larger than %d bytes", path,
		    REGISTRY_FILE_MAX);
		goto out;
	}
	reg = registry_load_buffer(path, buf, len, errmsg);
out:
	explicit_bzero(buf, len);	/* it may hold inline tokens */
	free(buf);
	return reg;
}

static void
registry_runtime_free(struct registry_runtime *rt)
{
	free(rt->id);
	free(rt->display_name);
	free(rt->base_url);
	free(rt->host);
	free(rt->base_path);
	free(rt->unix_path);
	registry_tls_clear(&rt->tls);
}

void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->runtime_count; i++)
		registry_runtime_free(&reg->runtimes[i]);
	free(reg->runtimes);
	if (reg->secrets != NULL) {
		for (size_t i = 0; i < reg->secrets->n; i++) {
			struct registry_secret *s = &reg->secrets->v[i];

			if (s->token != NULL)
				explicit_bzero(s->token, strlen(s->token));
			free(s->token);
			free(s->ref);
		}
		free(reg->secrets->v);
		free(reg->secrets);
	}
	for (size_t i = 0; i < reg->allowed_origin_count; i++)
		free(reg->allowed_origins[i]);
	free(reg->allowed_origins);
	free(reg->wsproxy.listen);
	free(reg->wsproxy.listen_host);
	free(reg->wsproxy.listen_unix);
	free(reg->wsproxy.metrics_listen);
	free(reg->wsproxy.metrics_host);
	free(reg->wsproxy.metrics_unix);
	free(reg->fcgi_metrics_path);
	free(reg->fcgi_metrics_state);
	free(reg->api_prefix);
	free(reg->path);
	free(reg);
}

const struct registry_runtime *
registry_find(const struct registry *reg, const char *id)
{
	for (size_t i = 0; i < reg->runtime_count; i++)
		if (strcmp(reg->runtimes[i].id, id) == 0)
			return &reg->runtimes[i];
	return NULL;
}

const char *
registry_token(const struct registry *reg, const struct registry_runtime *rt)
{
	if (rt->index >= reg->secrets->n)
		return NULL;
	return reg->secrets->v[rt->index].token;
}


const char *
registry_transport_name(enum registry_transport t)
{
	switch (t) {
	case REGISTRY_TRANSPORT_HTTPS:
		return "https";
	case REGISTRY_TRANSPORT_UNIX:
		return "unix";
	default:
		return "http";
	}
}
