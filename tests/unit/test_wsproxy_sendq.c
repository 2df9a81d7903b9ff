/*
 * Unit tests for wsproxy/sendq.c: FIFO order, headroom, the hard cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* One frame on several queues: one copy, freed with the last queue
 * that let go of it (ASan would see a leak or a double free). */
static void
test_shared_frames(void **state)
{
	struct sendq *a = sendq_new(1000, 16), *b = sendq_new(10, 16);
	struct sframe *f = sframe_new("shared", 6, 16);
	unsigned char *pa, *pb;
	size_t la, lb;

	(void)state;
	assert_int_equal(sendq_push_frame(a, f), SENDQ_OK);
	assert_int_equal(sendq_push_frame(b, f), SENDQ_OK);
	assert_int_equal(f->refs, 3);
	pa = sendq_peek(a, &la);
	pb = sendq_peek(b, &lb);
	assert_ptr_equal(pa, pb);
	assert_int_equal(la, 6);
	assert_memory_equal(pa, "shared", 6);
	/* The cap counts each queue's bytes, shared or not. */
	assert_int_equal(sendq_push_frame(b, f), SENDQ_ERR_FULL);
	assert_int_equal(f->refs, 3);
	sframe_unref(f);
	sendq_pop(a);
	assert_int_equal(f->refs, 1);
	sendq_free(b);
	sendq_free(a);
}

/* The ring grows past its first size and keeps FIFO order across the
 * wrap. */
static void
test_ring_growth(void **state)
{
	struct sendq *q = sendq_new(1 << 20, 8);
	char buf[16];
	unsigned char *p;
	size_t len;
	int i, next = 0;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		sendq_push(q, buf, strlen(buf), 0);
	}
	for (i = 0; i < 3; i++, next++)
		sendq_pop(q);
	for (i = 5; i < 100; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		sendq_push(q, buf, strlen(buf), 0);
	}
	assert_int_equal(sendq_count(q), 97);
	while ((p = sendq_peek(q, &len)) != NULL) {
		snprintf(buf, sizeof(buf), "%d", next++);
		assert_int_equal(len, strlen(buf));
		assert_memory_equal(p, buf, len);
		sendq_pop(q);
	}
	assert_int_equal(next, 100);
	assert_int_equal(sendq_bytes(q), 0);
	sendq_free(q);
}

/* RFC 6455 5.2: 7-bit lengths to 125, then 126 + 16 bits, then 127 +
 * 64 bits, network order; FIN and the text opcode first. */
static void
test_ws_header(void **state)
{
	static const struct {
		size_t len;
		size_t hlen;
		unsigned char want[SFRAME_WS_HEADER_MAX];
	} cases[] = {
		{ 0, 2, { 0x81, 0 } },
		{ 125, 2, { 0x81, 125 } },
		{ 126, 4, { 0x81, 126, 0, 126 } },
		{ 300, 4, { 0x81, 126, 0x01, 0x2c } },
		{ 65535, 4, { 0x81, 126, 0xff, 0xff } },
		{ 65536, 10, { 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0 } },
		{ 0x1234567, 10, { 0x81, 127, 0, 0, 0, 0, 0x01, 0x23, 0x45,
		    0x67 } },
	};
	unsigned char out[SFRAME_WS_HEADER_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(sframe_ws_header(out, cases[i].len),
		    cases[i].hlen);
		assert_memory_equal(out, cases[i].want, cases[i].hlen);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_headroom),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_shared_frames),
		cmocka_unit_test(test_ring_growth),
		cmocka_unit_test(test_ws_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
