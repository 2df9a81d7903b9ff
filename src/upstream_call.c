/*
 * upstream_call — the parts of upstream.h that need no socket: freeing a
 * call and naming its errors. Linked by wrg.fcgi and by the unit tests'
 * and fuzzers' fake upstream (tests/unit/test_fcgi_fake_upstream.c), so
 * both free a call the same way.
 */
#include "upstream.h"

#include <stdlib.h>
#include <string.h>

void
upstream_call_clear(struct upstream_call *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->body);
	free(c->resp);
	memset(c, 0, sizeof(*c));
}

const char *
upstream_strerror(enum upstream_err e)
{
	switch (e) {
	case UPSTREAM_OK: return "ok";
	case UPSTREAM_ERR_UNREACHABLE: return "unreachable";
	case UPSTREAM_ERR_TIMEOUT: return "timeout";
	case UPSTREAM_ERR_TLS: return "tls failure";
	case UPSTREAM_ERR_TOO_LARGE: return "answer too large";
	case UPSTREAM_ERR_BAD_RESPONSE: return "malformed answer";
	}
	return "?";
}
