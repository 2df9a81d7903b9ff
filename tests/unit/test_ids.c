/*
 * Unit tests for lib/ids: the id rules shared by wrg.fcgi and wrg-wsproxy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ids.h"

static void
test_runtime_id(void **state)
{
	char long64[65], long65[66];

	(void)state;
	memset(long64, 'a', 64);
	long64[64] = '\0';
	memset(long65, 'a', 65);
	long65[65] = '\0';
	assert_true(ids_runtime_id_valid("build-farm"));
	assert_true(ids_runtime_id_valid("A.b_c-9"));
	assert_true(ids_runtime_id_valid(long64));
	assert_false(ids_runtime_id_valid(long65));
	assert_false(ids_runtime_id_valid(""));
	assert_false(ids_runtime_id_valid(NULL));
	assert_false(ids_runtime_id_valid("a b"));
	assert_false(ids_runtime_id_valid("."));
	assert_false(ids_runtime_id_valid(".."));
	assert_true(ids_runtime_id_valid("..."));
	assert_false(ids_runtime_id_valid("a/b"));
	assert_false(ids_runtime_id_valid("a%2Fb"));
	assert_false(ids_runtime_id_valid("\xc3\xa9"));
}

static void
test_worker_id(void **state)
{
	char big[258];

	(void)state;
	assert_true(ids_worker_id_valid("worker-0000abcd", 15));
	assert_true(ids_worker_id_valid("a b", 3));
	assert_true(ids_worker_id_valid("...", 3));
	assert_true(ids_worker_id_valid("caf\xc3\xa9", 5));
	assert_true(ids_worker_id_valid("%2F", 3));	/* literal, decoded */
	assert_false(ids_worker_id_valid("", 0));
	assert_false(ids_worker_id_valid(".", 1));
	assert_false(ids_worker_id_valid("..", 2));
	assert_false(ids_worker_id_valid("a/b", 3));
	assert_false(ids_worker_id_valid("a\0b", 3));
	assert_false(ids_worker_id_valid("a\nb", 3));
	assert_false(ids_worker_id_valid("a\x7f", 2));
	assert_false(ids_worker_id_valid("\xc2\x85", 2));	/* C1 NEL */
	assert_false(ids_worker_id_valid("\xc3", 1));		/* truncated */
	assert_false(ids_worker_id_valid("\xc0\xaf", 2));	/* overlong / */
	assert_false(ids_worker_id_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(ids_worker_id_valid("\xff", 1));
	memset(big, 'w', sizeof(big));
	assert_true(ids_worker_id_valid(big, 256));
	assert_false(ids_worker_id_valid(big, 257));
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
