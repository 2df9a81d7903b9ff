/*
 * upstream_int — what the two files of the upstream client share
 * (upstream.c: the client, its batches and the driving of the multi
 * handle, blocking or from an event loop; upstream_easy.c: the easy
 * handles of each runtime and one transfer on one of them, from its
 * options to the classification of its end). Not for other modules
 * (they use upstream.h). Ownership is described at the top of upstream.c.
 */
#ifndef WRG_UPSTREAM_INT_H
#define WRG_UPSTREAM_INT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "ids.h"
#include "upstream.h"

/* Idle easy handles kept per runtime. */
#define UPSTREAM_POOL_MAX 32

/* Answer bytes an upstream holds at once, in max_upstream_body_bytes:
 * past it, transfers pause (the oldest batch's excepted). */
#define UPSTREAM_BUDGET_ANSWERS 24

/* What every call to one runtime shares: idle easy handles that already
 * carry the runtime's options, the start of its URLs, and the headers
 * sent on every call (built by hand, so a call allocates no list). */
struct upstream_pool {
	CURL *easy[UPSTREAM_POOL_MAX];
	size_t n;
	char *url_base;			/* scheme://authority[base_path] */
	char *auth;			/* "Authorization: Bearer ..." (a
					 * secret) or NULL */
	struct curl_slist fixed[3];	/* Accept, Expect, Authorization */
};

struct upstream {
	const struct registry *reg;
	CURLM *multi;
	struct upstream_pool *pool;	/* per runtime index */
	size_t pool_count;
	bool attached;
	struct upstream_hooks hooks;
	struct upstream_batch *batches;	/* running, newest first */
	struct upstream_batch *oldest;	/* the last of batches */
	size_t running;
	struct upstream_batch *finished;	/* done, callbacks pending */
	/* Answer memory: bytes allocated for the answers of batches not
	 * yet freed, against the budget; the transfers paused for it,
	 * oldest first. */
	size_t held, budget;
	struct upstream_xfer *paused, *paused_tail;
};

/* One call's transfer. */
struct upstream_xfer {
	struct upstream_batch *b;
	struct upstream_call *call;
	CURL *easy;
	/* Its own headers, in front of the runtime's fixed ones. */
	struct curl_slist hdr[2];
	char id_hdr[sizeof("X-Request-Id: ") + IDS_REQUEST_ID_MAX];
	size_t cap;
	size_t alloc;		/* bytes allocated at call->resp */
	bool too_large;
	bool done;
	bool paused;		/* on up->paused */
	bool was_paused;	/* its handle is not pooled again */
	struct upstream_xfer *paused_next;
};

struct upstream_batch {
	struct upstream_batch *prev, *next;
	struct upstream *up;
	struct upstream_xfer *xs;
	size_t n, left;		/* calls, calls not finished */
	size_t held;		/* answer bytes allocated, until freed */
	upstream_done_fn done;
	void *arg;
};

/* An easy handle for a call to rt: an idle one of its pool, or a new
 * one carrying the runtime's options (upstream_easy.c). */
CURL *upstream_easy_get(struct upstream *up,
    const struct registry_runtime *rt);

/* Frees what a runtime's pool holds: its idle handles, URL base and
 * credential. */
void upstream_pool_clear(struct upstream_pool *p);

/* Sets the options of x's call on x's easy handle. */
void upstream_setup(struct upstream *up, struct upstream_xfer *x,
    const char *request_id);

/* Classifies x's finished transfer into its call's "out" part. */
void upstream_finish(struct upstream_xfer *x, CURLcode rc);

/* The answer budget (upstream.c). Whether x may grow its answer buffer
 * by grow bytes: within the budget, or x's batch is the oldest (it
 * always may, so that some batch always finishes and frees what it
 * holds). */
bool upstream_may_hold(const struct upstream *up,
    const struct upstream_xfer *x, size_t grow);

/* x's buffer grew by grow bytes. */
void upstream_hold(struct upstream *up, struct upstream_xfer *x,
    size_t grow);

/* x paused for the budget (its write callback returned
 * CURL_WRITEFUNC_PAUSE) / no longer waits for it. */
void upstream_pause_add(struct upstream *up, struct upstream_xfer *x);
void upstream_pause_remove(struct upstream *up, struct upstream_xfer *x);

/* Takes x's easy handle out of the multi handle and back to its pool. */
void upstream_xfer_release(struct upstream *up, struct upstream_xfer *x);

#endif
