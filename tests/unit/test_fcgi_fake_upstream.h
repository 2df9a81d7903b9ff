/*
 * The scripted stand-in for src/upstream.c (test_fcgi_fake_upstream.c):
 * what the wrg.fcgi unit tests and fuzz targets use to script runtime
 * answers and to read back what would have gone over the wire.
 */
#ifndef WRG_TEST_FCGI_FAKE_UPSTREAM_H
#define WRG_TEST_FCGI_FAKE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "upstream.h"

#define FAKE_MAX 16

/* One recorded call: runtime, method, path, body, request id, and the
 * size of the batch (1 = single call, N = one parallel fan-out). */
struct fake_call {
	char rt[65];
	bool post;
	char path[2048];
	char body[4096];
	char request_id[128];
	size_t batch;
};

extern struct fake_call fake_calls[FAKE_MAX];
extern size_t fake_ncalls;

/* Forgets every scripted answer and recorded call. */
void fake_reset(void);

/* Scripts runtime rt's answer: a curl-level err, or UPSTREAM_OK with an
 * HTTP status and body (copied; NULL for none). */
void fake_set(const char *rt, enum upstream_err err, long status,
    const char *body);

#endif
