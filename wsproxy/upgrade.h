/*
 * upgrade — the checks on a browser's WebSocket upgrade and the upstream
 * path built from it, as pure functions for unit tests:
 *
 *  - the raw request path (read by front.c before lws decodes it) goes
 *    through lib/route.h exactly as REQUEST_URI does in wrg.fcgi, so an
 *    id addresses the same worker over REST and WebSocket;
 *  - the Origin against allowed_origins (empty list: the Origin must
 *    name the scheme the browser used, as the web server in front
 *    forwards it, and the Host header's host and port, the Origin's port
 *    defaulting by its scheme and a Host without a port standing for
 *    that default, see docs/wsproxy.md; no Origin header at all is a
 *    non-browser client and allowed);
 *  - the upstream path: base_path + "/v1/workers/" + one escaped segment
 *    (curl_easy_escape) + "/events/ws" [+ "?cursor=" + escaped cursor].
 */
#ifndef WRG_WSPROXY_UPGRADE_H
#define WRG_WSPROXY_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "apierr.h"
#include "registry.h"
#include "route.h"

enum upgrade_result {
	UPGRADE_OK = 0,
	UPGRADE_NOT_FOUND,	/* not the events route: HTTP 404 */
	UPGRADE_BAD_ID,		/* an id fails the id rules: HTTP 400 */
	UPGRADE_FORBIDDEN	/* Origin refused: HTTP 403 */
};

/* Whether origin (NULL: header absent) may open a stream, given the
 * request's Host header (NULL: absent) and the scheme the browser used
 * ("http", "https"; NULL or "": no forwarded scheme, plain http). */
bool upgrade_origin_allowed(const struct registry *reg, const char *origin,
    const char *host, const char *proto);

/* Checks an upgrade: the raw request path (no query), Origin and Host
 * headers and the forwarded scheme.
 * On UPGRADE_OK fills *rt with the events route and its ids. The runtime
 * id is not looked up here (an unknown runtime is a diagnostic on an
 * accepted socket, not a refused upgrade). */
enum upgrade_result upgrade_check(const struct registry *reg,
    const char *path, size_t len, const char *origin, const char *host,
    const char *proto, struct route *rt);

/* The runtime path for a worker's event socket, as a new string owned by
 * the caller, or NULL if escaping failed. cursor may be NULL. */
char *upgrade_upstream_path(const char *base_path, const char *worker_id,
    size_t worker_id_len, const char *cursor);

/* The browser error (lib/apierr.h) a refused upgrade answers with, the
 * same entry a REST request with that path fault gets; APIERR_OK for
 * UPGRADE_OK. */
enum apierr upgrade_refusal(enum upgrade_result r);

#endif
