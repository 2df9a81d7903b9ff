/*
 * Fuzz target: wrg-wsproxy's reader of a browser's request head
 * (wsproxy/head.c), which runs on every connection before lws parses it.
 *
 * Input: the bytes a browser (or whatever connects) sent.
 *
 * Invariants beyond "no crash, no leak":
 *  - HEAD_OK only for a head of at most HEAD_MAX bytes that ends in an
 *    empty line; its target is inside it, origin-form (starts with '/'),
 *    without SP or controls, and path_len stops at the first '?';
 *  - the forwarded scheme is "", "http", "https" or "-";
 *  - no proper prefix of an accepted head is accepted too (a head is
 *    complete exactly once), and a head refused for its bytes stays
 *    refused whatever follows;
 *  - a field name that is a proper prefix of a known name never passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_check.h"
#include "head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = { "get", "post", "host", "origin",
	"connection", "upgrade", "authorization", "accept",
	"accept-encoding", "x-auth-token", "cookie", "sec-websocket-key",
	"x-forwarded-for", "content-length" };
static const struct head_names known = { names, sizeof(names) /
	sizeof(names[0]) };

/* Whether a field named n[0..len) should have been refused. */
static bool
misparsed(const char *n, size_t len)
{
	bool prefix = false;

	for (size_t i = 0; i < known.count; i++) {
		size_t kl = strlen(names[i]);

		if (kl == len && strncasecmp(names[i], n, len) == 0)
			return false;
		if (kl > len && strncasecmp(names[i], n, len) == 0)
			prefix = true;
	}
	return prefix;
}

static void
check_ok(const char *buf, size_t size, const struct head *h)
{
	const char *p, *lf;

	FUZZ_CHECK(h->len >= 4 && h->len <= size && h->len <= HEAD_MAX,
	    "len %zu of %zu", h->len, size);
	FUZZ_CHECK(memcmp(buf + h->len - 4, "\r\n\r\n", 4) == 0, "no end");
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
	/* Every field name passes the lexer rule. */
	p = memchr(buf, '\n', h->len) + 1;
	while (p < buf + h->len - 2) {
		const char *colon;

		lf = memchr(p, '\n', (size_t)(buf + h->len - p));
		colon = memchr(p, ':', (size_t)(lf - p));
		FUZZ_CHECK(colon != NULL, "field without ':'");
		FUZZ_CHECK(!misparsed(p, (size_t)(colon - p)),
		    "field name lws misparses accepted");
		p = lf + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct head h, h2;
	enum head_err e, e2;

	e = head_parse(buf, size, &known, &h);
	switch (e) {
	case HEAD_OK:
		check_ok(buf, size, &h);
		/* No shorter prefix is a whole head. */
		e2 = head_parse(buf, h.len - 1, &known, &h2);
		FUZZ_CHECK(e2 == HEAD_INCOMPLETE, "prefix gave %d", (int)e2);
		break;
	case HEAD_INCOMPLETE:
		FUZZ_CHECK(size < HEAD_MAX, "incomplete at %zu", size);
		break;
	case HEAD_TOO_LARGE:
		FUZZ_CHECK(size >= HEAD_MAX, "too large at %zu", size);
		break;
	case HEAD_MALFORMED:
	case HEAD_FIELD_NAME:
		/* More bytes cannot repair it. */
		if (size > 0) {
			char *more = malloc(size + 4);

			if (more == NULL)
				abort();
			memcpy(more, buf, size);
			memcpy(more + size, "\r\n\r\n", 4);
			e2 = head_parse(more, size + 4, &known, &h2);
			FUZZ_CHECK(e2 == HEAD_MALFORMED || e2 ==
			    HEAD_FIELD_NAME || e2 == HEAD_TOO_LARGE,
			    "repaired: %d", (int)e2);
			free(more);
		}
		break;
	default:
		FUZZ_CHECK(0, "head_parse returned %d", (int)e);
	}
	FUZZ_CHECK(head_http_status(e == HEAD_OK ? HEAD_MALFORMED : e) >= 400,
	    "status");
	return 0;
}
