/*
 * A scripted stand-in for src/upstream.c, linked into the wrg.fcgi unit
 * tests instead of the real client, so the handler runs without a socket.
 * Each runtime id gets one canned outcome (curl-level error, HTTP status,
 * body); every call is recorded (runtime, method, path, body) together with
 * the size of the batch it came in, so tests can assert what would have
 * gone over the wire.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_fcgi_fake_upstream.h"
#include "xalloc.h"

struct fake_answer {
	char rt[65];
	enum upstream_err err;
	long status;
	char *body;
};

struct fake_answer fake_answers[FAKE_MAX];
size_t fake_nanswers;
struct fake_call fake_calls[FAKE_MAX];
size_t fake_ncalls;

struct upstream {
	int unused;
};

void
fake_reset(void)
{
	for (size_t i = 0; i < fake_nanswers; i++)
		free(fake_answers[i].body);
	memset(fake_answers, 0, sizeof(fake_answers));
	memset(fake_calls, 0, sizeof(fake_calls));
	fake_nanswers = fake_ncalls = 0;
}

/* Every later call to runtime rt gets this outcome. */
void
fake_set(const char *rt, enum upstream_err err, long status, const char *body)
{
	struct fake_answer *a = NULL;

	for (size_t i = 0; i < fake_nanswers; i++)
		if (strcmp(fake_answers[i].rt, rt) == 0)
			a = &fake_answers[i];
	if (a == NULL) {
		if (fake_nanswers == FAKE_MAX)
			abort();
		a = &fake_answers[fake_nanswers++];
	}
	free(a->body);
	snprintf(a->rt, sizeof(a->rt), "%s", rt);
	a->err = err;
	a->status = status;
	a->body = xstrdup(body);
}

struct upstream *
upstream_new(const struct registry *reg)
{
	(void)reg;
	return xcalloc(1, sizeof(struct upstream));
}

void
upstream_free(struct upstream *up)
{
	free(up);
}

void
upstream_perform(struct upstream *up, struct upstream_call *calls, size_t n,
    const char *request_id)
{
	(void)up;
	for (size_t i = 0; i < n; i++) {
		struct upstream_call *c = &calls[i];
		struct fake_call *rec;
		struct fake_answer *a = NULL;

		if (fake_ncalls < FAKE_MAX) {
			rec = &fake_calls[fake_ncalls++];
			snprintf(rec->rt, sizeof(rec->rt), "%s", c->rt->id);
			rec->post = c->post;
			snprintf(rec->path, sizeof(rec->path), "%s", c->path);
			snprintf(rec->body, sizeof(rec->body), "%.*s",
			    (int)c->body_len, c->body ? c->body : "");
			snprintf(rec->request_id, sizeof(rec->request_id),
			    "%s", request_id ? request_id : "");
			rec->batch = n;
		}
		for (size_t k = 0; k < fake_nanswers; k++)
			if (strcmp(fake_answers[k].rt, c->rt->id) == 0)
				a = &fake_answers[k];
		free(c->resp);
		c->resp = NULL;
		c->resp_len = 0;
		snprintf(c->detail, sizeof(c->detail),
		    "Failed to connect to 127.0.0.1 port 9 after 0 ms");
		if (a == NULL) {
			c->err = UPSTREAM_ERR_UNREACHABLE;
			continue;
		}
		c->err = a->err;
		c->status = a->status;
		if (a->err == UPSTREAM_OK && a->body != NULL) {
			c->resp = xstrdup(a->body);
			c->resp_len = strlen(a->body);
		}
	}
}
