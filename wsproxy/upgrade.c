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

#include "rtreq.h"
#include "xalloc.h"

/* Splits "host[:port]" (IPv6 in brackets) at auth[0..n): *host and *hlen
 * name the host (brackets kept), *port the port or dflt when there is
 * none. Returns false for an empty host or a malformed port. */
static bool
upgrade_split_authority(const char *auth, size_t n, unsigned dflt,
    const char **host, size_t *hlen, unsigned *port)
{
	const char *colon = NULL, *end = auth + n, *q;
	unsigned long v = 0;

	if (n && auth[0] == '[') {
		q = memchr(auth, ']', n);
		if (q == NULL)
			return false;
		if (q + 1 < end) {
			if (q[1] != ':')
				return false;
			colon = q + 1;
		}
	} else {
		colon = memchr(auth, ':', n);
		if (colon != NULL &&
		    memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
			return false;
	}
	*host = auth;
	*hlen = colon != NULL ? (size_t)(colon - auth) : n;
	if (*hlen == 0)
		return false;
	if (colon == NULL) {
		*port = dflt;
		return dflt != 0;
	}
	if (colon + 1 == end || end - colon - 1 > 5)
		return false;
	for (q = colon + 1; q < end; q++) {
		if (*q < '0' || *q > '9')
			return false;
		v = v * 10 + (unsigned long)(*q - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (unsigned)v;
	return true;
}

bool
upgrade_origin_allowed(const struct registry *reg, const char *origin,
    const char *host, const char *proto)
{
	const char *sep, *auth, *oh, *hh;
	size_t i, ol, hl;
	unsigned dflt = 0, op, hp;

	if (origin == NULL)
		return true;
	if (reg->allowed_origin_count > 0) {
		for (i = 0; i < reg->allowed_origin_count; i++)
			if (strcasecmp(origin, reg->allowed_origins[i]) == 0)
				return true;
		return false;
	}
	/* Same scheme, host and port. The scheme the browser used is what
	 * the web server in front says (X-Forwarded-Proto or Forwarded);
	 * without either the browser reached us directly, over plain http.
	 * The Origin's port defaults by its scheme (http 80, https 443), and
	 * a Host header without a port stands for that default port; a Host
	 * with a port must match exactly (https://h does not match Host
	 * h:80). */
	if (host == NULL || !*host || (sep = strstr(origin, "://")) == NULL)
		return false;
	if (proto == NULL || !*proto)
		proto = "http";
	if ((size_t)(sep - origin) != strlen(proto) ||
	    strncasecmp(origin, proto, strlen(proto)) != 0)
		return false;
	if ((size_t)(sep - origin) == 4 && strncasecmp(origin, "http", 4) == 0)
		dflt = 80;
	else if ((size_t)(sep - origin) == 5 &&
	    strncasecmp(origin, "https", 5) == 0)
		dflt = 443;
	auth = sep + 3;
	if (strchr(auth, '/') != NULL || !upgrade_split_authority(auth,
	    strlen(auth), dflt, &oh, &ol, &op) ||
	    !upgrade_split_authority(host, strlen(host), dflt, &hh, &hl, &hp))
		return false;
	return ol == hl && strncasecmp(oh, hh, ol) == 0 && op == hp;
}

enum upgrade_result
upgrade_check(const struct registry *reg, const char *path, size_t len,
    const char *origin, const char *host, const char *proto, struct route *rt)
{
	enum upgrade_result res = UPGRADE_NOT_FOUND;
	enum route_err e;

	e = route_parse(reg->api_prefix, path, len, rt);
	if (e == ROUTE_ERR_NOT_FOUND ||
	    rt->kind != ROUTE_WORKER_EVENTS_WS) {
		res = UPGRADE_NOT_FOUND;
		goto out;
	}
	if (e != ROUTE_OK) {
		res = UPGRADE_BAD_ID;
		goto out;
	}
	if (!upgrade_origin_allowed(reg, origin, host, proto)) {
		res = UPGRADE_FORBIDDEN;
		goto out;
	}
	res = UPGRADE_OK;
out:
	return res;
}

char *
upgrade_upstream_path(const char *base_path, const char *worker_id,
    size_t worker_id_len, const char *cursor)
{
	char *c = NULL, *suffix = NULL, *path = NULL;

	if (cursor != NULL) {
		c = curl_easy_escape(NULL, cursor, 0);
		if (c == NULL)
			goto out;
	}
	suffix = xasprintf("/events/ws%s%s", c != NULL ? "?cursor=" : "",
	    c != NULL ? c : "");
	path = rtreq_worker_path(base_path, worker_id, worker_id_len, suffix);
out:
	curl_free(c);
	free(suffix);
	return path;
}

enum apierr
upgrade_refusal(enum upgrade_result r)
{
	switch (r) {
	case UPGRADE_BAD_ID:
		return APIERR_INVALID_ID;
	case UPGRADE_FORBIDDEN:
		return APIERR_ORIGIN_NOT_ALLOWED;
	case UPGRADE_NOT_FOUND:
		return APIERR_NOT_FOUND;
	case UPGRADE_OK:
		break;
	}
	return APIERR_OK;
}
