/*
 * upgrade — checks on a browser's upgrade request and the upstream path
 * (see upgrade.h).
 */
#include "upgrade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "xalloc.h"

char *
upgrade_path_encode(const char *decoded, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(len * 3 + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)decoded[i];

		if (c == '/' || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Copies host[:port] of "scheme://host[:port]" into out without a port
 * that is the scheme's default. Returns false if origin has another
 * shape. */
static bool
upgrade_origin_authority(const char *origin, char *out, size_t cap)
{
	const char *sep = strstr(origin, "://"), *auth;
	size_t n, dl = 0;

	if (!sep)
		return false;
	auth = sep + 3;
	n = strlen(auth);
	if (n == 0 || n >= cap || strchr(auth, '/'))
		return false;
	memcpy(out, auth, n + 1);
	if ((size_t)(sep - origin) == 4 && strncasecmp(origin, "http", 4) == 0)
		dl = 3;	/* ":80" */
	else if ((size_t)(sep - origin) == 5 &&
	    strncasecmp(origin, "https", 5) == 0)
		dl = 4;	/* ":443" */
	if (dl && n > dl && strcmp(out + n - dl,
	    dl == 3 ? ":80" : ":443") == 0)
		out[n - dl] = '\0';
	return true;
}

bool
upgrade_origin_allowed(const struct registry *reg, const char *origin,
    const char *host)
{
	char a[512], h[512];
	size_t i, n;

	if (!origin)
		return true;
	if (reg->allowed_origin_count > 0) {
		for (i = 0; i < reg->allowed_origin_count; i++)
			if (strcasecmp(origin, reg->allowed_origins[i]) == 0)
				return true;
		return false;
	}
	if (!host || !*host || !upgrade_origin_authority(origin, a, sizeof(a)))
		return false;
	n = strlen(host);
	if (n >= sizeof(h))
		return false;
	memcpy(h, host, n + 1);
	/* The Host header carries no scheme: accept its default ports by
	 * comparing with and without them stripped. */
	if (strcasecmp(a, h) == 0)
		return true;
	if ((n > 3 && strcmp(h + n - 3, ":80") == 0) ||
	    (n > 4 && strcmp(h + n - 4, ":443") == 0)) {
		*strrchr(h, ':') = '\0';
		return strcasecmp(a, h) == 0;
	}
	return false;
}

enum upgrade_result
upgrade_check(const struct registry *reg, const char *decoded_path,
    size_t len, const char *origin, const char *host, struct route *rt)
{
	enum upgrade_result res = UPGRADE_NOT_FOUND;
	char *enc = upgrade_path_encode(decoded_path, len);
	enum route_err e;

	e = route_parse(reg->api_prefix, enc, strlen(enc), rt);
	if (e == ROUTE_ERR_NOT_FOUND ||
	    rt->kind != ROUTE_WORKER_EVENTS_WS) {
		res = UPGRADE_NOT_FOUND;
		goto out;
	}
	if (e != ROUTE_OK) {
		res = UPGRADE_BAD_ID;
		goto out;
	}
	if (!upgrade_origin_allowed(reg, origin, host)) {
		res = UPGRADE_FORBIDDEN;
		goto out;
	}
	res = UPGRADE_OK;
out:
	free(enc);
	return res;
}

char *
upgrade_upstream_path(const char *base_path, const char *worker_id,
    size_t worker_id_len, const char *cursor)
{
	char *w = NULL, *c = NULL, *path = NULL;

	if (worker_id_len > (size_t)0x7fffffff)
		goto out;
	w = curl_easy_escape(NULL, worker_id, (int)worker_id_len);
	if (!w)
		goto out;
	if (cursor) {
		c = curl_easy_escape(NULL, cursor, 0);
		if (!c)
			goto out;
	}
	path = xasprintf("%s/v1/workers/%s/events/ws%s%s",
	    base_path ? base_path : "", w, c ? "?cursor=" : "", c ? c : "");
out:
	curl_free(w);
	curl_free(c);
	return path;
}

unsigned
upgrade_http_status(enum upgrade_result r)
{
	switch (r) {
	case UPGRADE_BAD_ID:
		return 400;
	case UPGRADE_FORBIDDEN:
		return 403;
	case UPGRADE_NOT_FOUND:
		return 404;
	case UPGRADE_OK:
		break;
	}
	return 200;
}

const char *
upgrade_http_body(enum upgrade_result r)
{
	switch (r) {
	case UPGRADE_BAD_ID:
		return "{\"error\":{\"code\":\"invalid_request\","
		    "\"message\":\"The runtime or worker id is not valid.\"}}";
	case UPGRADE_FORBIDDEN:
		return "{\"error\":{\"code\":\"origin_not_allowed\","
		    "\"message\":\"This origin may not open event streams.\"}}";
	case UPGRADE_NOT_FOUND:
		return "{\"error\":{\"code\":\"not_found\","
		    "\"message\":\"No such route.\"}}";
	case UPGRADE_OK:
		break;
	}
	return "{}";
}
