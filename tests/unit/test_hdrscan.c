/*
 * Unit tests for lib/hdrscan: which header names lws 4.1's lexer
 * misreads (with this lws build's names, from lws_token_to_string), the
 * end-of-head search, and the request-head checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libwebsockets.h>

#include "hdrscan.h"

static struct hdrscan_lexicon *lx;
static const struct hdrscan_limits lim = { 16384, 80 };

static int
setup(void **state)
{
	const char *names[WSI_TOKEN_COUNT];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < (int)WSI_TOKEN_COUNT; i++) {
		const unsigned char *s =
		    lws_token_to_string((enum lws_token_indexes)i);

		if (s)
			names[n++] = (const char *)s;
	}
	lx = hdrscan_lexicon_new(names, n);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hdrscan_lexicon_free(lx);
	return 0;
}

static bool
traps(const char *name)
{
	return hdrscan_name_traps(lx, name, strlen(name));
}

static void
test_traps_issue_names(void **state)
{
	static const char *const bad[] = {
		"A", "Ho", "Or", "Co", "Up", "Authorizatio", "Connectio",
		"Origi", "X-A", "X-Auth-Toke", "Get", "G", "Post", "Http",
		"Sec-WebSocket-Ke", "T", "Accept-", "Content-Lengt",
		"ACCEPT-ENC", "x-a",
		/* a known name that ends without ':' inside the name */
		"Put", "Putter", "Delete-After", "Patch-Level", "Uri-Args",
	};
	static const char *const good[] = {
		"Host", "HOST", "Authorization", "Connection", "Upgrade",
		"Origin", "Accept", "Accept-Encoding", "Cookie", "Te",
		"Sec-WebSocket-Key", "Sec-WebSocket-Version",
		"X-Forwarded-For", "X-Auth-Token", "X-Real-IP", "X-B",
		"X-Foo", "B", "Hostx", "Authorizations", "X-Request-Id",
		"Sec-Fetch-Mode", "Dnt", "Priority", "Forwarded",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!traps(bad[i]))
			fail_msg("'%s' should trap", bad[i]);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (traps(good[i]))
			fail_msg("'%s' should not trap", good[i]);
	}
}

/* Every proper prefix of every known "name:" traps unless it is itself
 * a known "name:" (e.g. "accept" of "accept-encoding:"). */
static void
test_traps_all_prefixes(void **state)
{
	unsigned trapped = 0, known = 0;

	(void)state;
	for (int i = 0; i < (int)WSI_TOKEN_COUNT; i++) {
		const char *e = (const char *)lws_token_to_string(
		    (enum lws_token_indexes)i);
		size_t el;

		if (!e || !*e || e[strlen(e) - 1] != ':' || e[0] == ':')
			continue;
		el = strlen(e) - 1;
		for (size_t k = 1; k < el; k++) {
			char name[64], entry[66];
			bool is_known = false;

			snprintf(name, sizeof(name), "%.*s", (int)k, e);
			snprintf(entry, sizeof(entry), "%s:", name);
			for (int j = 0; j < (int)WSI_TOKEN_COUNT; j++) {
				const char *f = (const char *)
				    lws_token_to_string(
				    (enum lws_token_indexes)j);

				if (f && strcmp(f, entry) == 0)
					is_known = true;
			}
			if (traps(name) == is_known)
				fail_msg("prefix '%s' of '%s': traps %d",
				    name, e, traps(name));
			if (is_known)
				known++;
			else
				trapped++;
		}
		if (hdrscan_name_traps(lx, e, el))
			fail_msg("known name '%.*s' traps", (int)el, e);
	}
	assert_true(trapped > 300);
	assert_true(known > 0);
}

static void
test_head_end(void **state)
{
	static const char *const heads[] = {
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost: a\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		char buf[128];
		size_t len = strlen(heads[i]), scanned = 0, end = 0;

		snprintf(buf, sizeof(buf), "%sBODY", heads[i]);
		assert_int_equal(hdrscan_head_end(buf, len + 4, &scanned),
		    len);
		/* byte by byte gives the same, only at the last byte */
		scanned = 0;
		for (size_t k = 1; k <= len + 4 && !end; k++) {
			end = hdrscan_head_end(buf, k, &scanned);
			if (end)
				assert_int_equal(k, len);
		}
		assert_int_equal(end, len);
	}
	{
		size_t scanned = 0;

		assert_int_equal(hdrscan_head_end("GET / HTTP/1.1\r\nA: b\r\n",
		    22, &scanned), 0);
		assert_true(scanned <= 22);
		assert_int_equal(hdrscan_head_end("", 0, &scanned), 0);
	}
}

static enum hdrscan_result
check(const char *head, struct hdrscan_where *w)
{
	return hdrscan_check(lx, &lim, head, strlen(head), w);
}

static void
test_check_ok(void **state)
{
	(void)state;
	assert_int_equal(check("GET / HTTP/1.1\r\n\r\n", NULL), HDRSCAN_OK);
	assert_int_equal(check("GET /v1/workers/a%20b/events/ws?cursor=wo_1"
	    " HTTP/1.1\r\nHost: 127.0.0.1:80\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: abc==\r\n"
	    "Sec-WebSocket-Version: 13\r\nOrigin: http://x\r\n"
	    "Authorization: Bearer t\r\nX-B: 1\r\nCookie: a=b; c=d\r\n"
	    "User-Agent: Mozilla/5.0 (X11) \xc3\xa9\t\r\n\r\n", NULL),
	    HDRSCAN_OK);
	assert_int_equal(check("POST /v1/workers HTTP/1.0\nContent-Length:"
	    "2\nX-Empty:\n\n", NULL), HDRSCAN_OK);
}

static void
test_check_refused(void **state)
{
	static const char nul_head[] = "GET / HTTP/1.1\r\nX-B: a\0b\r\n\r\n";
	struct hdrscan_where w;
	const char *h;

	(void)state;
	h = "GET / HTTP/1.1\r\nHost: a\r\nHo: 1\r\nAuthorization: x\r\n\r\n";
	assert_int_equal(check(h, &w), HDRSCAN_LEXER_TRAP);
	assert_int_equal(w.line, 3);
	assert_int_equal(w.name_len, 2);
	assert_memory_equal(h + w.name_off, "Ho", 2);
	assert_int_equal(check("GET / HTTP/1.1\r\nAuthorization: x\r\n"
	    "X-A: 1\r\n\r\n", &w), HDRSCAN_LEXER_TRAP);
	assert_int_equal(w.line, 3);

	static const char *const bad[] = {
		"\r\n\r\n",				/* no request line */
		"GET /\r\n\r\n",			/* HTTP/0.9 */
		"GET / HTTP/1.1 x\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/11\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET /\x01 HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET / HTTP/1.1\r\n: a\r\n\r\n",
		"GET / HTTP/1.1\r\nX-B: 1\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nX-B: 1\r\n\tfolded\r\n\r\n",
		"GET / HTTP/1.1\r\nX-B: a\rb\r\n\r\n",
		"GET / HTTP/1.1\r\nX-B: a\x7f\r\n\r\n",
		"GET / HTTP/1.1\r\nX-B: a\x01\r\n\r\n",
		"GET / HTTP/1.1\r\nX/B: 1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n",	/* no blank line */
		"GET / HTTP/1.1\r\n\r\nX-B: 1\r\n\r\n",	/* data after it */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check(bad[i], NULL) != HDRSCAN_BAD_SYNTAX)
			fail_msg("bad[%zu] not refused as syntax", i);
	}
	assert_int_equal(hdrscan_check(lx, &lim, nul_head,
	    sizeof(nul_head) - 1, &w), HDRSCAN_BAD_SYNTAX);
	assert_int_equal(w.line, 2);
}

/* 64 bytes and 3 headers at most; query arguments count as headers:
 * '?' and each '&' or ';' after it. */
static const struct {
	const char *head;
	enum hdrscan_result want;
} limit_cases[] = {
	{ "GET / HTTP/1.1\r\nA1: 1\r\nB1: 2\r\nB2: 3\r\n\r\n", HDRSCAN_OK },
	{ "GET / HTTP/1.1\r\nB1: 1\r\nB2: 2\r\nB3: 3\r\nB4: 4\r\n\r\n",
	    HDRSCAN_TOO_MANY },
	{ "GET /?a&b;c HTTP/1.1\r\n\r\n", HDRSCAN_OK },
	{ "GET /?a&b;c&d HTTP/1.1\r\n\r\n", HDRSCAN_TOO_MANY },
	{ "GET /?a&b;c HTTP/1.1\r\nB1: 1\r\n\r\n", HDRSCAN_TOO_MANY },
	{ "GET / HTTP/1.1\r\nB1: "
	    "000000000000000000000000000000000000000000000000000000000000"
	    "\r\n\r\n", HDRSCAN_TOO_LARGE },
};

static void
test_check_limits(void **state)
{
	static const struct hdrscan_limits small = { 64, 3 };

	(void)state;
	for (size_t i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]);
	    i++) {
		const char *h = limit_cases[i].head;
		enum hdrscan_result got = hdrscan_check(lx, &small, h,
		    strlen(h), NULL);

		if (got != limit_cases[i].want)
			fail_msg("limit case %zu: got %d, want %d", i,
			    (int)got, (int)limit_cases[i].want);
	}
}

static enum hdrscan_result
prefix(const char *buf, struct hdrscan_where *w)
{
	return hdrscan_check_prefix(lx, &lim, buf, strlen(buf), w);
}

static void
test_check_prefix(void **state)
{
	static const char ok[] = "GET /a?b=1 HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer t\r\nX-B: 1\r\n\r\n";
	static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc";
	struct hdrscan_where w;
	char buf[sizeof(ok)];

	(void)state;
	/* Every proper prefix of a good head can still become one. */
	for (size_t k = 0; k + 1 < sizeof(ok) - 1; k++) {
		memcpy(buf, ok, k);
		buf[k] = '\0';
		if (prefix(buf, NULL) != HDRSCAN_MORE)
			fail_msg("prefix of %zu bytes refused", k);
	}
	/* Not HTTP at all: refused at the first byte. */
	assert_int_equal(hdrscan_check_prefix(lx, &lim, tls, sizeof(tls) - 1,
	    NULL), HDRSCAN_BAD_SYNTAX);
	assert_int_equal(prefix("\x16", NULL), HDRSCAN_BAD_SYNTAX);
	assert_int_equal(prefix("G\x01", NULL), HDRSCAN_BAD_SYNTAX);
	assert_int_equal(prefix("GET /\x01", NULL), HDRSCAN_BAD_SYNTAX);
	assert_int_equal(prefix("GET / HTTP/1.1\r\nHo: 1", &w),
	    HDRSCAN_LEXER_TRAP);
	assert_int_equal(w.line, 2);
	assert_int_equal(w.name_off, 16);
	assert_int_equal(w.name_len, 2);
	assert_int_equal(prefix("GET / HTTP/1.1\r\nHo", NULL), HDRSCAN_MORE);
	assert_int_equal(prefix("GET / HTTP/1.1\r\n fold", NULL),
	    HDRSCAN_BAD_SYNTAX);
	assert_int_equal(prefix("GET / HTTP/1.1\r\nJunk\r", NULL),
	    HDRSCAN_BAD_SYNTAX);
	assert_int_equal(prefix("GET / HTTP/1.1\r\nJunk\r\nX", NULL),
	    HDRSCAN_BAD_SYNTAX);
	assert_int_equal(prefix("GET / HTTP/1.1\r\nX-B: \x01", NULL),
	    HDRSCAN_BAD_SYNTAX);
	assert_int_equal(prefix("GET / HTP/1.1\r\n", NULL),
	    HDRSCAN_BAD_SYNTAX);
	{
		static const struct hdrscan_limits small = { 8, 3 };

		assert_int_equal(hdrscan_check_prefix(lx, &small,
		    "GET / HTTP", 10, NULL), HDRSCAN_TOO_LARGE);
		assert_int_equal(hdrscan_check_prefix(lx, &small,
		    "GET / HT", 8, NULL), HDRSCAN_MORE);
	}
}

static void
test_lexicon(void **state)
{
	static const char *const names[] = { "Foo:", NULL, "", "bar " };
	struct hdrscan_lexicon *l = hdrscan_lexicon_new(names, 4);

	(void)state;
	assert_true(hdrscan_name_traps(l, "F", 1));
	assert_true(hdrscan_name_traps(l, "fO", 2));
	assert_false(hdrscan_name_traps(l, "FOO", 3));
	assert_true(hdrscan_name_traps(l, "Ba", 2));
	assert_true(hdrscan_name_traps(l, "Bar", 3));
	assert_false(hdrscan_name_traps(l, "Baz", 3));
	assert_false(hdrscan_name_traps(l, "X", 1));
	hdrscan_lexicon_free(l);
	hdrscan_lexicon_free(NULL);
	l = hdrscan_lexicon_new(NULL, 0);
	assert_false(hdrscan_name_traps(l, "A", 1));
	hdrscan_lexicon_free(l);
	assert_string_equal(hdrscan_strerror(HDRSCAN_OK), "ok");
	assert_string_equal(hdrscan_strerror((enum hdrscan_result)99),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_traps_issue_names),
		cmocka_unit_test(test_traps_all_prefixes),
		cmocka_unit_test(test_head_end),
		cmocka_unit_test(test_check_ok),
		cmocka_unit_test(test_check_refused),
		cmocka_unit_test(test_check_limits),
		cmocka_unit_test(test_check_prefix),
		cmocka_unit_test(test_lexicon),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
