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
	struct upstream_batch *batches;	/* running, doubly linked */
	size_t running;
	struct upstream_batch *finished;	/* done, callbacks pending */
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
};

struct upstream_batch {
	struct upstream_batch *prev, *next;
	struct upstream_xfer *xs;
	size_t n, left;		/* calls, calls not finished */
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

/* Takes x's easy handle out of the multi handle and back to its pool. */
void upstream_xfer_release(struct upstream *up, struct upstream_xfer *x);

#endif
