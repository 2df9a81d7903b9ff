/*
 * handler — one browser request in, one response out, no socket: the API
 * half of wrg.fcgi (fcgiloop is the worker half that talks FastCGI). A unit
 * test fills a struct handler_req by hand and calls handler_handle.
 *
 * Order of checks: route (404 not_found, 400 invalid_request for bad ids),
 * method (405 + Allow), runtime id against the registry (404
 * runtime_not_found), then for POST the media type (415), the size (413,
 * decided from CONTENT_LENGTH before reading and enforced while reading),
 * the JSON (400 invalid_json) and the fields (400 invalid_request); only
 * then is a runtime called.
 */
#ifndef WRG_HANDLER_H
#define WRG_HANDLER_H

#include <sys/types.h>

#include "fcgim.h"
#include "registry.h"
#include "resp.h"
#include "rtstate.h"
#include "upstream.h"

/* Everything a handler needs besides the request; one per thread. All
 * members are borrowed. */
struct handler_ctx {
	const struct registry *reg;
	struct rtstate *rts;	/* shared by all threads */
	struct upstream *up;	/* this thread's */
	struct fcgim *metrics;	/* shared; NULL: metrics off */
};

struct handler_req {
	const char *method;		/* REQUEST_METHOD */
	const char *uri;		/* REQUEST_URI (path and query) */
	const char *content_type;	/* CONTENT_TYPE; NULL if absent */
	const char *content_length;	/* CONTENT_LENGTH; NULL if absent */
	const char *request_id;		/* HTTP_X_REQUEST_ID; NULL if absent */
	/* Reads at most cap body bytes into buf; returns the count, 0 at
	 * the end of the body, -1 on error. */
	ssize_t (*read_body)(void *arg, char *buf, size_t cap);
	void *read_arg;
};

/* A request waiting for its runtime calls. */
struct handler_task;

/* Handles req and fills *out (which the caller zeroes first and frees
 * with resp_clear), running the runtime calls with upstream_perform.
 * Never fails: every problem becomes an error response from the apierr
 * table. */
void handler_handle(struct handler_ctx *ctx, const struct handler_req *req,
    struct resp *out);

/* The same in two steps, for an event loop. Either fills *out and returns
 * NULL (no runtime to call: an error, /api/health), or returns a task
 * whose calls (handler_task_calls) the caller runs — upstream_perform or
 * upstream_start — before handler_task_finish fills *out. req (with what
 * it points at, the body included) and out must stay valid until then;
 * ctx too. */
struct handler_task *handler_begin(struct handler_ctx *ctx,
    const struct handler_req *req, struct resp *out);

/* The calls a task needs run (owned by the task). */
struct upstream_call *handler_task_calls(struct handler_task *t,
    size_t *n);

/* Builds the response from the finished calls and frees t. */
void handler_task_finish(struct handler_task *t);

/* Frees t without a response (the web server left). NULL is a no-op. */
void handler_task_free(struct handler_task *t);

#endif
