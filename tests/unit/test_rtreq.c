/*
 * Unit tests of lib/rtreq: the worker path (one escaped segment whatever
 * the id), host[:port] with IPv6 brackets, the Bearer credential.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rtreq.h"

static void
test_worker_path(void **state)
{
	static char long_id[301], long_want[400];
	static const struct {
		const char *base, *id;
		size_t len;		/* 0: strlen(id) */
		const char *suffix, *want;	/* want NULL: refused */
	} rows[] = {
		{ NULL, "w1", 0, "", "/v1/workers/w1" },
		{ NULL, "w1", 0, NULL, "/v1/workers/w1" },
		{ "/rt/base", "w1", 0, "/events/ws?cursor=c1",
		  "/rt/base/v1/workers/w1/events/ws?cursor=c1" },
		{ NULL, "a/b", 0, "/stop", "/v1/workers/a%2Fb/stop" },
		{ NULL, "%2F", 0, "", "/v1/workers/%252F" },
		{ NULL, "../x", 0, "", "/v1/workers/..%2Fx" },
		{ NULL, "a b+c?d#e", 0, "", "/v1/workers/a%20b%2Bc%3Fd%23e" },
		{ NULL, "\xc3\xa9t\xc3\xa9", 0, "", "/v1/workers/%C3%A9t%C3%A9" },
		{ NULL, "a\0b", 3, "", "/v1/workers/a%00b" },
		{ NULL, "...", 0, "", "/v1/workers/..." },
		{ NULL, "..", 0, "", NULL },
		{ NULL, ".", 0, "", NULL },
		{ NULL, "", 0, "", NULL },
		{ NULL, long_id, 0, "", long_want },
	};

	(void)state;
	memset(long_id, 'x', 300);
	strcpy(long_want, "/v1/workers/");
	memset(long_want + strlen(long_want), 'x', 300);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].id);
		char *p = rtreq_worker_path(rows[i].base, rows[i].id, len,
		    rows[i].suffix);

		if (rows[i].want == NULL ? p != NULL :
		    p == NULL || strcmp(p, rows[i].want) != 0)
			fail_msg("id '%s' (%zu bytes): %s, want %s", rows[i].id,
			    len, p ? p : "refused",
			    rows[i].want ? rows[i].want : "refused");
		free(p);
	}
}

static void
test_authority(void **state)
{
	static const struct {
		const char *host;
		int port;
		const char *want;
	} rows[] = {
		{ "127.0.0.1", 8080, "127.0.0.1:8080" },
		{ "rt.example", 443, "rt.example:443" },
		{ "rt.example", 0, "rt.example" },
		{ "::1", 8080, "[::1]:8080" },
		{ "::1", 0, "[::1]" },
		{ "2001:db8::7", 65535, "[2001:db8::7]:65535" },
		{ "[::1]", 80, "[::1]:80" },
		{ "localhost", -1, "localhost" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *a = rtreq_authority(rows[i].host, rows[i].port);

		assert_string_equal(a, rows[i].want);
		free(a);
	}
}

static void
test_bearer(void **state)
{
	static const struct {
		const char *token;
		enum rtreq_bearer_form form;
		const char *want;
	} rows[] = {
		{ "tok-XYZ", RTREQ_BEARER_VALUE, "Bearer tok-XYZ" },
		{ "tok-XYZ", RTREQ_BEARER_HEADER,
		  "Authorization: Bearer tok-XYZ" },
		{ "a.b~c", RTREQ_BEARER_VALUE, "Bearer a.b~c" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *b = rtreq_bearer(rows[i].token, rows[i].form);

		assert_string_equal(b, rows[i].want);
		rtreq_secret_free(b);
	}
	rtreq_secret_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_path),
		cmocka_unit_test(test_authority),
		cmocka_unit_test(test_bearer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
