/*
 * Unit tests for wsproxy/head.c: what wrg-wsproxy reads itself from a
 * browser's request head — the raw target, the forwarded scheme — and
 * the size and syntax limits. (Header names lws misreads: test_hdrscan.)
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

static enum head_err
parse(const char *text, struct head *h)
{
	return head_parse(text, strlen(text), h);
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
		assert_int_equal(head_parse(req, i, &h),
		    HEAD_INCOMPLETE);
	assert_int_equal(head_parse(req, strlen(req), &h), HEAD_OK);
}

static void
test_proto(void **state)
{
	/* A head and the scheme head_parse must read from it. */
	static const struct {
		const char *req, *proto;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nX-Forwarded-Proto: https\r\n\r\n",
		    "https" },
		{ "GET / HTTP/1.1\r\nx-forwarded-proto:  HTTP ,https\r\n\r\n",
		    "http" },
		{ "GET / HTTP/1.1\r\nX-Forwarded-Proto: wss\r\n"
		    "X-Forwarded-Proto: http\r\n\r\n", "https" },
		{ "GET / HTTP/1.1\r\nX-Forwarded-Proto: gopher\r\n\r\n",
		    "-" },
		{ "GET / HTTP/1.1\r\nForwarded: for=1.2.3.4;"
		    "proto=https;by=x, proto=http\r\n\r\n", "https" },
		{ "GET / HTTP/1.1\r\nForwarded: proto=\"http\"\r\n\r\n",
		    "http" },
		/* X-Forwarded-Proto wins over Forwarded, whatever the
		 * order. */
		{ "GET / HTTP/1.1\r\nForwarded: proto=http\r\n"
		    "X-Forwarded-Proto: https\r\n\r\n", "https" },
		{ "GET / HTTP/1.1\r\nForwarded: for=x\r\n\r\n", "" },
	};
	struct head h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].req, &h), HEAD_OK);
		assert_string_equal(h.proto, cases[i].proto);
	}
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
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
	    &h), HEAD_MALFORMED);
	/* Lines may end in LF alone (lws reads them so too). */
	assert_int_equal(parse("GET /x HTTP/1.1\nHost: a\r\nX: b\n\n", &h),
	    HEAD_OK);
	assert_memory_equal(h.target, "/x", 2);
	/* obs-text and tabs in values are fine. */
	assert_int_equal(parse("GET / HTTP/1.0\r\nX-Y: \t\xc3\xa9 z\r\n\r\n",
	    &h), HEAD_OK);
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
	assert_int_equal(head_parse(req, HEAD_MAX - 1, &h),
	    HEAD_INCOMPLETE);
	assert_int_equal(head_parse(req, HEAD_MAX, &h),
	    HEAD_TOO_LARGE);
	assert_int_equal(head_parse(req, HEAD_MAX + 64, &h),
	    HEAD_TOO_LARGE);
	/* Exactly HEAD_MAX bytes with the empty line at the end is fine. */
	memcpy(req + HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(head_parse(req, HEAD_MAX, &h), HEAD_OK);
	assert_int_equal(h.len, HEAD_MAX);
	free(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
