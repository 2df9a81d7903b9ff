/*
 * resp — the response a request handler returns: status, the few headers
 * wrg sets, and a JSON body. Built without any socket, written out by the
 * FastCGI loop (fcgiloop) as a CGI-style header block plus body. Every
 * browser-visible byte of wrg.fcgi is produced here, from JSON that
 * handlers build or from the error table (apierr).
 */
#ifndef WRG_RESP_H
#define WRG_RESP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "apierr_upstream.h"
#include "ids.h"

struct resp {
	int status;
	char request_id[IDS_REQUEST_ID_MAX + 1];
	const char *allow;	/* static; set for 405 */
	bool head;		/* HEAD request: headers only */
	char *body;		/* owned; compact JSON */
	size_t body_len;
	size_t body_cap;	/* bytes allocated for body */
	size_t items;		/* resp_items_*: items added so far */
	/* For the metrics only, never sent: the route (enum route_kind)
	 * and the runtime's registry index + 1 (0: none). */
	unsigned route;
	size_t rt_ref;
};

/* Sets status and body to the compact serialization of obj. Takes the
 * caller's reference to obj (frees it). Replaces any earlier body. */
void resp_json(struct resp *r, int status, struct json_object *obj);

/* Sets an error response from the table: {"error": {"code", "message",
 * "runtime_id" (if non-NULL), "request_id"}}. message NULL means the
 * table's message. */
void resp_error(struct resp *r, enum apierr e, const char *runtime_id,
    const char *message);

/* Sets an error from an upstream classification (runtime_rejected keeps
 * the runtime's status, runtime_code and scrubbed message). */
void resp_upstream_error(struct resp *r, const struct apierr_upstream *u,
    const char *runtime_id);

/* A list answer {"items": [...], "diagnostics": [...]} built piece by
 * piece, so that an aggregate over many runtimes holds one runtime's
 * parsed answer at a time rather than all of them: begin, then add the
 * items of each runtime (the members of array arr, serialized compactly
 * at once; arr is borrowed and may be freed right after), then end with
 * the diagnostics (the reference to diags is taken) and status 200. The
 * bytes are what resp_json would write for the same object. */
void resp_items_begin(struct resp *r);
void resp_items_add(struct resp *r, struct json_object *arr);
void resp_items_end(struct resp *r, struct json_object *diags);

/* Returns the header block ("Status: ...\r\n...\r\n\r\n") for r, owned
 * by the caller. */
char *resp_headers(const struct resp *r);

/* Frees the body; r itself is the caller's. */
void resp_clear(struct resp *r);

#endif
