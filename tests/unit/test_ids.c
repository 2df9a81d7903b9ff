/*
 * Unit tests for lib/ids: the id rules shared by wrg.fcgi and wrg-wsproxy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ids.h"

/* s[0..n) with bytes outside printable ASCII as \xNN, for a failure
 * message; out holds cap bytes. */
static const char *
shown(const char *s, size_t n, char *out, size_t cap)
{
	size_t at = 0;

	if (s == NULL)
		return "(null)";
	out[0] = '\0';
	for (size_t i = 0; i < n && at + 5 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		at += (size_t)snprintf(out + at, cap - at,
		    c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
	}
	return out;
}

static void
test_runtime_id(void **state)
{
	char long64[65], long65[66], buf[400];
	const char *const valid[] = { "build-farm", "A.b_c-9", "...",
	    long64 };
	const char *const invalid[] = { long65, "", NULL, "a b", ".", "..",
	    "a/b", "a%2Fb", "\xc3\xa9" };

	(void)state;
	memset(long64, 'a', 64);
	long64[64] = '\0';
	memset(long65, 'a', 65);
	long65[65] = '\0';
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (!ids_runtime_id_valid(valid[i]))
			fail_msg("runtime id '%s' refused", valid[i]);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (ids_runtime_id_valid(invalid[i]))
			fail_msg("runtime id '%s' accepted", shown(invalid[i],
			    invalid[i] ? strlen(invalid[i]) : 0, buf,
			    sizeof(buf)));
}

static void
test_worker_id(void **state)
{
	char big[258], buf[400];
	const struct {
		const char *id;
		size_t len;
		bool valid;
	} rows[] = {
		{ "worker-0000abcd", 15, true },
		{ "a b", 3, true },
		{ "...", 3, true },
		{ "caf\xc3\xa9", 5, true },
		{ "%2F", 3, true },		/* literal, decoded */
		{ big, 256, true },
		{ big, 257, false },		/* one byte too many */
		{ "", 0, false },
		{ ".", 1, false },
		{ "..", 2, false },
		{ "a/b", 3, false },
		{ "a\0b", 3, false },
		{ "a\nb", 3, false },
		{ "a\x7f", 2, false },
		{ "\xc2\x85", 2, false },	/* C1 NEL */
		{ "\xc3", 1, false },		/* truncated */
		{ "\xc0\xaf", 2, false },	/* overlong / */
		{ "\xed\xa0\x80", 3, false },	/* surrogate */
		{ "\xff", 1, false },
	};

	(void)state;
	memset(big, 'w', sizeof(big));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (ids_worker_id_valid(rows[i].id, rows[i].len) !=
		    rows[i].valid)
			fail_msg("worker id '%s' (%zu bytes) %s",
			    shown(rows[i].id, rows[i].len, buf, sizeof(buf)),
			    rows[i].len, rows[i].valid ? "refused" :
			    "accepted");
}

static void
test_request_id(void **state)
{
	char a[IDS_REQUEST_ID_MAX + 1], b[IDS_REQUEST_ID_MAX + 1];

	(void)state;
	assert_true(ids_request_id_valid("abc-123_X.y"));
	assert_false(ids_request_id_valid(""));
	assert_false(ids_request_id_valid("a\r\nX-Evil: 1"));
	assert_false(ids_request_id_valid("a b"));
	ids_request_id_generate(a);
	ids_request_id_generate(b);
	assert_int_equal(strlen(a), 22);
	assert_true(ids_request_id_valid(a));
	assert_true(ids_request_id_valid(b));
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtime_id),
		cmocka_unit_test(test_worker_id),
		cmocka_unit_test(test_request_id),
	};

	return cmocka_run_group_tests_name("ids", tests, NULL, NULL);
}
