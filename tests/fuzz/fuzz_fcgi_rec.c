/*
 * Fuzz target: bytes from a web server through wrg.fcgi's FastCGI record
 * layer (src/fcgirec.c), fed in pieces whose size the first byte picks.
 * Invariants beyond "no crash": a request handed out never holds more
 * than max_body_bytes + 1 body bytes, its params are NUL-terminated
 * strings, the queued replies stay within their cap and are whole,
 * well-formed records; the same bytes framed as a response come out as
 * records that carry exactly those bytes.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "fcgirec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_replies(struct fcgirec_parser *p)
{
	size_t len, at = 0;
	const uint8_t *r = fcgirec_reply(p, &len);

	assert(len <= FCGIREC_REPLY_MAX);
	while (at < len) {
		assert(len - at >= 8);
		assert(r[at] == 1);
		at += 8 + (size_t)(r[at + 4] << 8 | r[at + 5]) + r[at + 6];
	}
	assert(at == len);
	fcgirec_reply_consume(p, len);
}

static void
check_framing(const uint8_t *data, size_t size)
{
	struct fcgirec_out o;
	struct iovec iov[FCGIREC_OUT_IOV];
	size_t half = size / 2, payload = 0, total = 0;
	int n;

	fcgirec_out_init(&o, 1, (const char *)data, half,
	    (const char *)data + half, size - half);
	while ((n = fcgirec_out_iov(&o, iov)) > 0) {
		size_t w = 0;

		for (int i = 0; i < n; i++)
			w += iov[i].iov_len;
		/* Write an odd amount to exercise partial records. */
		w = w > 7 ? w - 7 : w;
		total += w;
		fcgirec_out_advance(&o, w);
	}
	for (int seg = 0; seg < 2; seg++)
		for (size_t left = seg ? size - half : half; left > 0;) {
			size_t c = left > FCGIREC_CHUNK ? FCGIREC_CHUNK : left;

			payload += 8 + c + (8 - c % 8) % 8;
			left -= c;
		}
	assert(total == payload + 24);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fcgirec_limits lim = { 512, 64, 16 };
	struct fcgirec_parser *p;
	size_t off = 1, step;

	if (size == 0)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	p = fcgirec_parser_new(&lim);
	while (off < size) {
		size_t len = size - off < step ? size - off : step, used;
		struct fcgirec_event ev;

		if (fcgirec_feed(p, data + off, len, &used, &ev) !=
		    FCGIREC_OK)
			break;
		assert(used <= len);
		assert(used > 0 || ev.kind != FCGIREC_EV_NONE || len == 0);
		off += used;
		if (ev.kind == FCGIREC_EV_REQUEST) {
			struct fcgirec_req *r = fcgirec_take(p);

			assert(r != NULL);
			assert(r->body_len <= lim.max_body_bytes + 1);
			for (size_t i = 0; i < r->nparams; i++)
				(void)strlen(r->names[i]),
				    (void)strlen(r->values[i]);
			(void)fcgirec_req_param(r, "REQUEST_URI");
			fcgirec_req_free(r);
			fcgirec_done(p);
		}
		check_replies(p);
	}
	fcgirec_parser_free(p);
	check_framing(data, size);
	return 0;
}
