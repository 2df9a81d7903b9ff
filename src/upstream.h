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

/* Frees the client and closes its connections. NULL is a no-op. */
void upstream_free(struct upstream *up);

/* Runs the n calls in parallel and returns when all have finished (each
 * bounded by its runtime's timeouts). Calls to the same runtime are
 * allowed. request_id is sent as X-Request-Id. */
void upstream_perform(struct upstream *up, struct upstream_call *calls,
    size_t n, const char *request_id);

/* Frees what a call owns (path, body, resp) and zeroes it. */
void upstream_call_clear(struct upstream_call *c);

/* A short name for an upstream_err, for logs. */
const char *upstream_strerror(enum upstream_err e);

#endif
