/*
 * handler_int — what the files of the REST handler share (handler.c:
 * routing and dispatch; handler_call.c: one runtime call and its answer;
 * handler_fanout.c: the routes that ask every runtime): the per-request
 * state and the steps one file takes from another. Not for other modules
 * (they use handler.h); the unit test includes it for handler_request_id.
 */
#ifndef WRG_HANDLER_INT_H
#define WRG_HANDLER_INT_H

#include <stdbool.h>

#include <json-c/json.h>

#include "apierr.h"
#include "handler.h"
#include "route.h"

/* Rewrites a runtime's parsed answer (borrowed) into what the browser
 * gets (owned by the caller); NULL if it has an unexpected shape. */
typedef struct json_object *(*handler_rewrite_fn)(struct json_object *,
    const char *);

/* Which runtimes a runtime-view route asks. */
enum handler_scope {
	HANDLER_ALL_RUNTIMES,	/* GET /api/runtimes */
	HANDLER_ONE_RUNTIME	/* GET /api/runtimes/{r}: h->rt only */
};

/* What is left to do once the runtime calls are back. */
enum handler_then {
	HANDLER_THEN_NOTHING,	/* the response is set */
	HANDLER_THEN_SINGLE,	/* handler_single_finish */
	HANDLER_THEN_RUNTIMES,	/* handler_runtimes_finish */
	HANDLER_THEN_WORKERS	/* handler_workers_all_finish */
};

/* Per-request state, from handler_begin to the response: the request
 * and response are borrowed, the calls owned. It is the struct
 * handler_task of handler.h. */
struct handler_task {
	struct handler_ctx *ctx;
	const struct handler_req *req;
	struct resp *out;
	struct route route;
	const struct registry_runtime *rt;	/* when the route names one */
	const char *query;			/* after '?', or NULL */
	/* the runtime calls and what their answers become */
	struct upstream_call *calls;
	size_t ncalls;
	enum handler_then then;
	int op;				/* rtstate op, or -1 */
	handler_rewrite_fn fn;
	const char *key;
	int status;
	enum handler_scope scope;
};

/* Request id rule: when trusted (registry fcgi.trust_request_id: the
 * front end sets or vets X-Request-Id) and the request's id is 1..64 of
 * [A-Za-z0-9._-], copies it into out and returns true; otherwise writes a
 * fresh id and returns false. A browser never chooses the id by default:
 * it is logged and sent to runtimes. out holds IDS_REQUEST_ID_MAX + 1
 * bytes. */
bool handler_request_id(bool trusted, const char *from_browser, char *out);

/* Classifies the finished call c to rt and, for 2xx, parses and rewrites
 * its body with fn (fn NULL: the parsed root as is). Returns new JSON
 * owned by the caller, or NULL with u->err set; *u is filled either way
 * (clear it with apierr_upstream_clear). op >= 0 is the rtstate
 * operation to mark unsupported on a router miss. Frees c's answer
 * buffer. */
struct json_object *handler_result(struct handler_ctx *ctx,
    const struct registry_runtime *rt, int op, struct upstream_call *c,
    handler_rewrite_fn fn, const char *request_id,
    struct apierr_upstream *u);

/* One call to h->rt, to be answered as {key: result} with status or as
 * the mapped error (handler_single_finish). Takes ownership of path;
 * body (may be NULL) is borrowed. */
void handler_single(struct handler_task *h, int op, char *path,
    struct json_object *body, handler_rewrite_fn fn, const char *key,
    int status);
void handler_single_finish(struct handler_task *h);

/* GET /api/runtimes (scope HANDLER_ALL_RUNTIMES) or /api/runtimes/{r}
 * (HANDLER_ONE_RUNTIME): the calls, then the views. */
void handler_runtimes(struct handler_task *h, enum handler_scope scope);
void handler_runtimes_finish(struct handler_task *h);

/* GET /api/workers: the calls, then the merged list. */
void handler_workers_all(struct handler_task *h);
void handler_workers_all_finish(struct handler_task *h);

#endif
