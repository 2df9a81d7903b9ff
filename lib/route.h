/*
 * route — the browser API's path router, shared by wrg.fcgi (REST) and
 * wrg-wsproxy (the events socket). Input is the request path (no query)
 * exactly as the web server received it (REQUEST_URI before '?'); output
 * is the route and the decoded, validated ids. The path is split on raw
 * '/' before any percent-decoding, so "%2F" inside an id can never create
 * a segment, and each id is checked after decoding.
 */
#ifndef WRG_ROUTE_H
#define WRG_ROUTE_H

#include <stddef.h>

#include "ids.h"

enum route_kind {
	ROUTE_NONE = 0,
	ROUTE_HEALTH,			/* GET  {p}/health */
	ROUTE_RUNTIMES,			/* GET  {p}/runtimes */
	ROUTE_RUNTIME,			/* GET  {p}/runtimes/{r} */
	ROUTE_WORKERS_ALL,		/* GET  {p}/workers */
	ROUTE_RUNTIME_WORKERS,		/* GET, POST {p}/runtimes/{r}/workers */
	ROUTE_WORKER,			/* GET  .../workers/{w} */
	ROUTE_WORKER_INPUT,		/* POST .../workers/{w}/input */
	ROUTE_WORKER_STOP,		/* POST .../workers/{w}/stop */
	ROUTE_WORKER_CANCEL,		/* POST .../workers/{w}/cancel */
	ROUTE_WORKER_TRANSCRIPT,	/* GET  .../workers/{w}/transcript */
	ROUTE_WORKER_EVENTS_WS		/* GET (upgrade) .../workers/{w}/events/ws */
};

enum route_err {
	ROUTE_OK = 0,
	ROUTE_ERR_NOT_FOUND,	/* no such route (browser: 404 not_found) */
	ROUTE_ERR_BAD_ID	/* an id segment fails ids_* (400 invalid_request) */
};

struct route {
	enum route_kind kind;
	/* Decoded ids; "" when the route has none. runtime_id is only
	 * checked against the id syntax here, not against the registry. */
	char runtime_id[IDS_RUNTIME_ID_MAX + 1];
	char worker_id[IDS_WORKER_ID_MAX + 1];
	size_t worker_id_len;
};

/* Matches path (length len, need not be NUL-terminated) under prefix (the
 * config's api_prefix, e.g. "/api"). Fills *out on ROUTE_OK; on
 * ROUTE_ERR_BAD_ID, out->kind still names the matched route. */
enum route_err route_parse(const char *prefix, const char *path, size_t len,
    struct route *out);

/* The methods a route accepts, as an Allow header value ("GET, HEAD",
 * "GET, HEAD, POST", "POST"). "" for ROUTE_NONE. Static storage. */
const char *route_allow(enum route_kind kind);

/* Whether method (e.g. "GET") is one of route_allow(kind); HEAD is
 * accepted exactly where GET is. */
int route_method_allowed(enum route_kind kind, const char *method);

/* A short stable name, e.g. "worker_input", for logs. */
const char *route_name(enum route_kind kind);

#endif
