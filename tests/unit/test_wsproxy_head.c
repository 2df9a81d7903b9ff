/*
 * Unit tests for wsproxy/head.c: reading a browser's request head before
 * lws does — the raw target, the forwarded scheme, heads lws would
 * misread (header names that are proper prefixes of ones it knows), and
 * the size and syntax limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "head.h"

/* A few of lws 4.1's names, as front.c derives them. */
static const char *const names[] = { "get", "host", "origin",
	"connection", "upgrade", "authorization", "accept", "accept-encoding",
	"x-auth-token", "cookie", "sec-websocket-key" };
static const struct head_names known = { names, sizeof(names) /
	sizeof(names[0]) };

static enum head_err
parse(const char *text, struct head *h)
{
	return head_parse(text, strlen(text), &known, h);
}

static void
test_target(void **state)
{
	struct head h;
	const char *req = "GET /api/runtimes/a/workers/w%201+x/events/ws"
	    "?cursor=wo_1 HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\n\r\nEXTRA";

	(void)state;
	assert_int_equal(parse(req, &h), HEAD_OK);
	assert_int_equal(h.len, strlen(req) - 5);
	assert_int_equal(h.target_len, strlen("/api/runtimes/a/workers/"
	    "w%201+x/events/ws?cursor=wo_1"));
	assert_memory_equal(h.target, "/api/runtimes/a/workers/w%201+x/"
	    "events/ws", h.path_len);
	assert_int_equal(h.target[h.path_len], '?');
	assert_string_equal(h.proto, "");
}

static void
test_incomplete(void **state)
{
	struct head h;
	const char *req = "GET / HTTP/1.1\r\nHost: gw\r\n\r\n";
	size_t i;

	(void)state;
	for (i = 0; i < strlen(req); i++)
		assert_int_equal(head_parse(req, i, &known, &h),
		    HEAD_INCOMPLETE);
	assert_int_equal(head_parse(req, strlen(req), &known, &h), HEAD_OK);
}

static void
test_proto(void **state)
{
	struct head h;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nX-Forwarded-Proto: https"
	    "\r\n\r\n", &h), HEAD_OK);
	assert_string_equal(h.proto, "https");
	assert_int_equal(parse("GET / HTTP/1.1\r\nx-forwarded-proto:  HTTP ,"
	    "https\r\n\r\n", &h), HEAD_OK);
	assert_string_equal(h.proto, "http");
	assert_int_equal(parse("GET / HTTP/1.1\r\nX-Forwarded-Proto: wss\r\n"
	    "X-Forwarded-Proto: http\r\n\r\n", &h), HEAD_OK);
	assert_string_equal(h.proto, "https");
	assert_int_equal(parse("GET / HTTP/1.1\r\nX-Forwarded-Proto: gopher"
	    "\r\n\r\n", &h), HEAD_OK);
	assert_string_equal(h.proto, "-");
	assert_int_equal(parse("GET / HTTP/1.1\r\nForwarded: for=1.2.3.4;"
	    "proto=https;by=x, proto=http\r\n\r\n", &h), HEAD_OK);
	assert_string_equal(h.proto, "https");
	assert_int_equal(parse("GET / HTTP/1.1\r\nForwarded: proto=\"http\""
	    "\r\n\r\n", &h), HEAD_OK);
	assert_string_equal(h.proto, "http");
	/* X-Forwarded-Proto wins over Forwarded, whatever the order. */
	assert_int_equal(parse("GET / HTTP/1.1\r\nForwarded: proto=http\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n", &h), HEAD_OK);
	assert_string_equal(h.proto, "https");
	assert_int_equal(parse("GET / HTTP/1.1\r\nForwarded: for=x\r\n\r\n",
	    &h), HEAD_OK);
	assert_string_equal(h.proto, "");
}

/* lws 4.1 drops the fields after a name that is a proper prefix of one
 * it knows: such a head is refused, known names and other unknown names
 * pass. */
static void
test_field_names(void **state)
{
	static const char *const bad[] = { "Ho", "H", "A", "Or", "Co",
		"Authorizatio", "Connectio", "Origi", "Up", "X-A", "x-auth",
		"Accept-E", "Ge", "Sec-Websocket-K" };
	static const char *const good[] = { "Host", "X-B", "X-Foo",
		"Accept", "Accept-Encoding", "Hostx", "Authorizations",
		"Sec-Fetch-Mode", "Z" };
	char req[256];
	struct head h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s: 1\r\n"
		    "Authorization: Bearer t\r\n\r\n", bad[i]);
		assert_int_equal(parse(req, &h), HEAD_FIELD_NAME);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s: 1\r\n"
		    "Authorization: Bearer t\r\n\r\n", good[i]);
		assert_int_equal(parse(req, &h), HEAD_OK);
	}
	/* Without a name list nothing is refused for its name. */
	assert_int_equal(head_parse("GET / HTTP/1.1\r\nHo: 1\r\n\r\n", 27,
	    NULL, &h), HEAD_OK);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\n\n",			/* bare LF */
		"GET / HTTP/1.1\r\nHost: a\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",	/* bare CR */
		"GET /  HTTP/1.1\r\n\r\n",
		"GET http://h/ HTTP/1.1\r\n\r\n",	/* absolute-form */
		"GET * HTTP/1.1\r\n\r\n",
		"GET / HTTP/2\r\n\r\n",
		"GET / http/1.1\r\n\r\n",
		" GET / HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET /\x7f HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET / HTTP/1.1\r\n: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",	/* obs-fold */
		"GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n",
	};
	struct head h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &h), HEAD_MALFORMED);
	/* A NUL in a value. */
	assert_int_equal(head_parse("GET / HTTP/1.1\r\nA-B: \0\r\n\r\n", 25,
	    &known, &h), HEAD_MALFORMED);
	/* obs-text and tabs in values are fine. */
	assert_int_equal(parse("GET / HTTP/1.0\r\nX-Y: \t\xc3\xa9 z\r\n\r\n",
	    &h), HEAD_OK);
	assert_int_equal(head_http_status(HEAD_MALFORMED), 400);
	assert_int_equal(head_http_status(HEAD_FIELD_NAME), 400);
}

static void
test_too_large(void **state)
{
	char *req = malloc(HEAD_MAX + 64);
	struct head h;
	size_t n;

	(void)state;
	assert_non_null(req);
	n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nCookie: ");
	memset(req + n, 'c', HEAD_MAX + 64 - n);
	assert_int_equal(head_parse(req, HEAD_MAX - 1, &known, &h),
	    HEAD_INCOMPLETE);
	assert_int_equal(head_parse(req, HEAD_MAX, &known, &h),
	    HEAD_TOO_LARGE);
	assert_int_equal(head_parse(req, HEAD_MAX + 64, &known, &h),
	    HEAD_TOO_LARGE);
	/* Exactly HEAD_MAX bytes with the empty line at the end is fine. */
	memcpy(req + HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(head_parse(req, HEAD_MAX, &known, &h), HEAD_OK);
	assert_int_equal(h.len, HEAD_MAX);
	assert_int_equal(head_http_status(HEAD_TOO_LARGE), 431);
	free(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
