/*
 * Fuzz target: wrg-wsproxy's reader of a browser's request head
 * (wsproxy/head.c): the raw target and forwarded scheme of every head
 * the header gate passes.
 *
 * Input: the bytes a browser (or whatever connects) sent.
 *
 * Invariants beyond "no crash, no leak":
 *  - HEAD_OK only for a head of at most HEAD_MAX bytes that ends in an
 *    empty line (CRLF or LF line ends); its target is inside it, origin-form (starts with '/'),
 *    without SP or controls, and path_len stops at the first '?';
 *  - the forwarded scheme is "", "http", "https" or "-";
 *  - no proper prefix of an accepted head is accepted too (a head is
 *    complete exactly once), and a head refused for its bytes stays
 *    refused whatever follows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ok(const char *buf, size_t size, const struct head *h)
{
	FUZZ_CHECK(h->len >= 4 && h->len <= size && h->len <= HEAD_MAX,
	    "len %zu of %zu", h->len, size);
	/* Ends in an empty line: LF, after LF or CRLF... LF. */
	FUZZ_CHECK(buf[h->len - 1] == '\n' && (buf[h->len - 2] == '\n' ||
	    (buf[h->len - 2] == '\r' && buf[h->len - 3] == '\n')), "no end");
	FUZZ_CHECK(h->target > buf && h->target + h->target_len <
	    buf + h->len && h->target_len > 0 && h->target[0] == '/',
	    "target");
	for (size_t i = 0; i < h->target_len; i++)
		FUZZ_CHECK((unsigned char)h->target[i] > 0x20 &&
		    h->target[i] != 0x7f, "byte in target");
	FUZZ_CHECK(h->path_len <= h->target_len, "path_len");
	FUZZ_CHECK(memchr(h->target, '?', h->path_len) == NULL, "? in path");
	FUZZ_CHECK(h->path_len == h->target_len ||
	    h->target[h->path_len] == '?', "path_len end");
	FUZZ_CHECK(!strcmp(h->proto, "") || !strcmp(h->proto, "http") ||
	    !strcmp(h->proto, "https") || !strcmp(h->proto, "-"), "proto");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct head h, h2;
	enum head_err e, e2;

	e = head_parse(buf, size, &h);
	switch (e) {
	case HEAD_OK:
		check_ok(buf, size, &h);
		/* No shorter prefix is a whole head. */
		e2 = head_parse(buf, h.len - 1, &h2);
		FUZZ_CHECK(e2 == HEAD_INCOMPLETE, "prefix gave %d", (int)e2);
		break;
	case HEAD_INCOMPLETE:
		FUZZ_CHECK(size < HEAD_MAX, "incomplete at %zu", size);
		break;
	case HEAD_TOO_LARGE:
		FUZZ_CHECK(size >= HEAD_MAX, "too large at %zu", size);
		break;
	case HEAD_MALFORMED:
		/* More bytes cannot repair it. */
		if (size > 0) {
			char *more = malloc(size + 4);

			if (more == NULL)
				abort();
			memcpy(more, buf, size);
			memcpy(more + size, "\r\n\r\n", 4);
			e2 = head_parse(more, size + 4, &h2);
			FUZZ_CHECK(e2 == HEAD_MALFORMED ||
			    e2 == HEAD_TOO_LARGE,
			    "repaired: %d", (int)e2);
			free(more);
		}
		break;
	default:
		FUZZ_CHECK(0, "head_parse returned %d", (int)e);
	}
	return 0;
}
