/*
 * Unit tests for wsproxy/sendq.c: FIFO order, headroom, the hard cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sendq.h"

static void
test_fifo_and_headroom(void **state)
{
	struct sendq *q = sendq_new(100, 16);
	unsigned char *p;
	size_t len;

	(void)state;
	assert_null(sendq_peek(q, &len));
	assert_int_equal(sendq_push(q, "one", 3, 0), SENDQ_OK);
	assert_int_equal(sendq_push(q, "three", 5, 0), SENDQ_OK);
	assert_int_equal(sendq_bytes(q), 8);
	assert_int_equal(sendq_count(q), 2);
	p = sendq_peek(q, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "one", 3);
	memset(p - 16, 0xAA, 16);	/* headroom is writable */
	sendq_pop(q);
	p = sendq_peek(q, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "three", 5);
	sendq_pop(q);
	assert_null(sendq_peek(q, &len));
	assert_int_equal(sendq_bytes(q), 0);
	sendq_pop(q);	/* empty pop is harmless */
	sendq_free(q);
	sendq_free(NULL);
}

static void
test_cap(void **state)
{
	struct sendq *q = sendq_new(10, 4);
	size_t len;

	(void)state;
	assert_int_equal(sendq_push(q, "12345", 5, 0), SENDQ_OK);
	assert_int_equal(sendq_push(q, "12345", 5, 0), SENDQ_OK);
	assert_int_equal(sendq_push(q, "1", 1, 0), SENDQ_ERR_FULL);
	assert_int_equal(sendq_bytes(q), 10);
	sendq_pop(q);
	assert_int_equal(sendq_push(q, "123456", 6, 0), SENDQ_ERR_FULL);
	assert_int_equal(sendq_push(q, "12345", 5, 0), SENDQ_OK);
	/* One frame alone larger than the cap never fits. */
	sendq_clear(q);
	assert_int_equal(sendq_count(q), 0);
	assert_int_equal(sendq_push(q, "12345678901", 11, 0), SENDQ_ERR_FULL);
	/* force: the final diagnostic after a clear. */
	assert_int_equal(sendq_push(q, "12345678901", 11, 1), SENDQ_OK);
	assert_non_null(sendq_peek(q, &len));
	assert_int_equal(len, 11);
	sendq_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_headroom),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
