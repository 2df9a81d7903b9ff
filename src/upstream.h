/*
 * upstream — wrg.fcgi's HTTP client toward worker runtimes, over libcurl.
 * One struct upstream per FastCGI thread: it owns a curl multi handle (whose
 * connection cache keeps connections to runtimes alive across requests) and
 * one easy handle per registry runtime. Every transfer, single or parallel,
 * runs through the multi handle, so GET /api/workers to N runtimes takes as
 * long as the slowest one, and a single call reuses the same connections.
 *
 * Each call gets the runtime's connect and request timeouts, TLS settings,
 * bearer token, the request id, and a hard cap on the answer's size.
 *
 * Two ways to run calls: upstream_perform blocks until a batch is done
 * (wrg.fcgi --probe, the unit tests); or, once upstream_attach has given
 * the client an event loop, upstream_start begins a batch and returns at
 * once, the loop reports socket events and the timer (curl's multi_socket
 * interface), and the batch's done callback runs when its last call ends.
 * Any number of batches may run at once; each call takes an easy handle
 * of its runtime from a pool.
 */
#ifndef WRG_UPSTREAM_H
#define WRG_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"

enum upstream_err {
	UPSTREAM_OK = 0,	/* an HTTP answer came back (any status) */
	UPSTREAM_ERR_UNREACHABLE,	/* resolve/connect/reset/no answer */
	UPSTREAM_ERR_TIMEOUT,	/* connected, no answer in request_timeout */
	UPSTREAM_ERR_TLS,	/* handshake or verification failed */
	UPSTREAM_ERR_TOO_LARGE,	/* answer over max_upstream_body_bytes */
	UPSTREAM_ERR_BAD_RESPONSE	/* not a well-formed HTTP answer */
};

/* One remote request. The caller fills the "in" part, runs it with
 * upstream_perform, reads the "out" part, and releases it with
 * upstream_call_clear. */
struct upstream_call {
	/* in */
	const struct registry_runtime *rt;	/* borrowed from the registry */
	bool post;		/* POST with body, else GET */
	char *path;		/* "/v1/..." owned; ids already escaped */
	char *body;		/* owned; JSON to send (POST only) */
	size_t body_len;
	bool want_cert;		/* https: report the server certificate's
				 * expiry (filled on a new connection) */
	/* out */
	enum upstream_err err;
	long status;		/* HTTP status when err == UPSTREAM_OK */
	char *resp;		/* owned, NUL-terminated; at most the cap */
	size_t resp_len;
	int curl_code;		/* CURLcode, for logs */
	long long cert_expires;	/* want_cert: notAfter, Unix time; 0 unknown */
	long long usec;		/* the whole transfer, microseconds */
	char detail[256];	/* curl's error text: operator logs ONLY */
};

struct upstream;

/* A client for the runtimes of reg (borrowed; must outlive it). Call from
 * the thread that will use it, after curl_global_init. */
struct upstream *upstream_new(const struct registry *reg);

/* Frees the client and closes its connections; batches still running
 * are cancelled. NULL is a no-op. */
void upstream_free(struct upstream *up);

/* Runs the n calls in parallel and returns when all have finished (each
 * bounded by its runtime's timeouts). Calls to the same runtime are
 * allowed. request_id is sent as X-Request-Id. */
void upstream_perform(struct upstream *up, struct upstream_call *calls,
    size_t n, const char *request_id);

/* What curl wants watched on a socket. */
#define UPSTREAM_WATCH_IN 1u
#define UPSTREAM_WATCH_OUT 2u

/* The event loop of an attached client. */
struct upstream_hooks {
	/* Watch fd for what (UPSTREAM_WATCH_*), or stop watching it (what
	 * 0: curl is about to close it). *slot is the loop's own pointer
	 * for fd: NULL the first time, kept by upstream until the socket
	 * is dropped (what 0), when the loop frees what it points at. */
	void (*watch)(void *arg, int fd, unsigned what, void **slot);
	/* Call upstream_on_timer in ms milliseconds (0: soon); -1: no
	 * timer. Replaces the previous one. */
	void (*timer)(void *arg, long ms);
	/* A connection socket was opened (open true) or is about to be
	 * closed (false). A connection curl keeps idle is dropped from
	 * watch (what 0) long before its close, and curl says nothing of
	 * that close but through this. NULL: not told. */
	void (*conn_socket)(void *arg, int fd, bool open);
	void *arg;
};

/* Called when every call of a batch has finished (their "out" parts are
 * filled). The batch is gone by then. */
typedef void (*upstream_done_fn)(void *arg);

struct upstream_batch;

/* Hands up to an event loop; from now on use upstream_start, not
 * upstream_perform. hooks is copied. */
void upstream_attach(struct upstream *up, const struct upstream_hooks *h);

/* Starts the n calls (n >= 1), which must stay valid until done(arg)
 * runs or the batch is cancelled. done never runs inside this call. */
struct upstream_batch *upstream_start(struct upstream *up,
    struct upstream_call *calls, size_t n, const char *request_id,
    upstream_done_fn done, void *arg);

/* Stops a batch that has not finished; done is not called, the calls
 * end as UPSTREAM_ERR_UNREACHABLE. */
void upstream_cancel(struct upstream *up, struct upstream_batch *b);

/* The loop saw events on a watched socket (UPSTREAM_WATCH_* bits; err:
 * an error or hang-up). Runs done callbacks of batches that finished. */
void upstream_on_socket(struct upstream *up, int fd, unsigned what,
    bool err);

/* Runs the done callbacks of batches that ended inside upstream_start;
 * the loop calls it at the end of each of its turns. Returns whether it
 * ran any. */
bool upstream_dispatch(struct upstream *up);

/* The timer set through hooks->timer has expired. */
void upstream_on_timer(struct upstream *up);

/* Batches started and not yet finished or cancelled. */
size_t upstream_running(const struct upstream *up);

/* Frees what a call owns (path, body, resp) and zeroes it. */
void upstream_call_clear(struct upstream_call *c);

/* A short name for an upstream_err, for logs. */
const char *upstream_strerror(enum upstream_err e);

#endif
