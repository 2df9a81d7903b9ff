/*
 * Unit tests for src/fcgirec: the FastCGI record layer of wrg.fcgi.
 * Records are built here byte by byte (FastCGI 1.0) and fed whole, split
 * at every offset, and in one byte at a time: the parser must give the
 * same request. Limits (params cap, body kept to cap + 1), ABORT,
 * multiplexing refusal, management records and the response framing
 * (record sizes, padding, END_REQUEST, partial writes) are checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fcgirec.h"
#include "fcgirec_int.h"

struct buf {
	uint8_t b[300000];
	size_t n;
};

static void
add_rec(struct buf *o, int type, unsigned id, const void *c, size_t clen,
    unsigned pad)
{
	uint8_t h[8];

	fcgirec_header(h, type, (uint16_t)id, (uint16_t)clen, (uint8_t)pad);
	memcpy(o->b + o->n, h, 8);
	o->n += 8;
	if (clen)
		memcpy(o->b + o->n, c, clen);
	o->n += clen;
	memset(o->b + o->n, 0xee, pad);
	o->n += pad;
}

static void
add_begin(struct buf *o, unsigned id, unsigned role, int flags)
{
	uint8_t c[8] = { (uint8_t)(role >> 8), (uint8_t)role,
	    (uint8_t)flags, 0, 0, 0, 0, 0 };

	add_rec(o, FCGIREC_BEGIN_REQUEST, id, c, 8, 0);
}

static size_t
nv(uint8_t *o, const char *k, const char *v, int long_len)
{
	size_t kl = strlen(k), vl = strlen(v), at = 0;

	o[at++] = (uint8_t)kl;
	if (long_len || vl > 127) {
		o[at++] = (uint8_t)(0x80 | vl >> 24);
		o[at++] = (uint8_t)(vl >> 16);
		o[at++] = (uint8_t)(vl >> 8);
		o[at++] = (uint8_t)vl;
	} else {
		o[at++] = (uint8_t)vl;
	}
	memcpy(o + at, k, kl);
	memcpy(o + at + kl, v, vl);
	return at + kl + vl;
}

/* A complete GET-ish request with a body. */
static void
add_request(struct buf *o, unsigned id, int keep, const char *body)
{
	uint8_t p[512];
	size_t pn = 0;

	add_begin(o, id, 1, keep);
	pn += nv(p + pn, "REQUEST_METHOD", "POST", 0);
	pn += nv(p + pn, "REQUEST_URI", "/api/runtimes", 1);
	/* Params split across two records, padding on the first. */
	add_rec(o, FCGIREC_PARAMS, id, p, 10, 6);
	add_rec(o, FCGIREC_PARAMS, id, p + 10, pn - 10, 0);
	add_rec(o, FCGIREC_PARAMS, id, NULL, 0, 0);
	if (body[0])
		add_rec(o, FCGIREC_STDIN, id, body, strlen(body), 3);
	add_rec(o, FCGIREC_STDIN, id, NULL, 0, 0);
}

static const struct fcgirec_limits lim = { 4096, 100, 64 };

/* Feeds buf in pieces of step bytes; returns the events seen. */
static int
feed_all(struct fcgirec_parser *p, const uint8_t *b, size_t n, size_t step,
    struct fcgirec_event *evs, int max, struct fcgirec_req **req)
{
	size_t off = 0;
	int count = 0;

	while (off < n) {
		size_t len = n - off < step ? n - off : step, used = 0;
		size_t at = 0;

		while (at < len) {
			struct fcgirec_event ev;

			assert_int_equal(fcgirec_feed(p, b + off + at,
			    len - at, &used, &ev), FCGIREC_OK);
			at += used;
			if (ev.kind != FCGIREC_EV_NONE && count < max) {
				evs[count++] = ev;
				if (ev.kind == FCGIREC_EV_REQUEST && req)
					*req = fcgirec_take(p);
			}
		}
		off += len;
	}
	return count;
}

static void
test_request_any_split(void **state)
{
	static struct buf o;

	(void)state;
	o.n = 0;
	add_request(&o, 7, 1, "{\"a\":1}");
	for (size_t step = 1; step <= o.n; step++) {
		struct fcgirec_parser *p = fcgirec_parser_new(&lim);
		struct fcgirec_event evs[4];
		struct fcgirec_req *r = NULL;

		assert_true(fcgirec_idle(p));
		assert_int_equal(feed_all(p, o.b, o.n, step, evs, 4, &r), 1);
		assert_int_equal(evs[0].kind, FCGIREC_EV_REQUEST);
		assert_int_equal(evs[0].id, 7);
		assert_non_null(r);
		assert_true(r->keep_conn);
		assert_string_equal(fcgirec_req_param(r, "REQUEST_METHOD"),
		    "POST");
		assert_string_equal(fcgirec_req_param(r, "REQUEST_URI"),
		    "/api/runtimes");
		assert_null(fcgirec_req_param(r, "CONTENT_TYPE"));
		assert_int_equal(r->body_len, 7);
		assert_memory_equal(r->body, "{\"a\":1}", 7);
		assert_false(r->body_truncated);
		assert_false(fcgirec_idle(p));
		fcgirec_done(p);
		assert_true(fcgirec_idle(p));
		fcgirec_req_free(r);
		fcgirec_parser_free(p);
	}
}

/* The state of a test that feeds one parser: the parser (lim), the
 * stream built for it (too big for the stack) and the request taken from
 * it. The teardown frees them, also after a failed assertion. */
struct fix {
	struct buf o;
	struct fcgirec_parser *p;
	struct fcgirec_req *r;
};

static int
fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->p = fcgirec_parser_new(&lim);
	*state = f;
	return 0;
}

static int
fix_teardown(void **state)
{
	struct fix *f = *state;

	fcgirec_req_free(f->r);
	fcgirec_parser_free(f->p);
	free(f);
	return 0;
}

static void
test_body_cap(void **state)
{
	struct fix *f = *state;
	char body[301];
	struct fcgirec_event evs[2];

	memset(body, 'x', 300);
	body[300] = '\0';
	add_request(&f->o, 1, 0, body);
	assert_int_equal(feed_all(f->p, f->o.b, f->o.n, f->o.n, evs, 2,
	    &f->r), 1);
	/* cap + 1 bytes kept: enough for the handler to answer 413. */
	assert_int_equal(f->r->body_len, lim.max_body_bytes + 1);
	assert_true(f->r->body_truncated);
	assert_false(f->r->keep_conn);
}

/* Streams the parser must refuse, each built from scratch. */
static void
build_params_too_large(struct buf *o)
{
	static uint8_t big[5000];

	add_begin(o, 1, 1, 0);
	add_rec(o, FCGIREC_PARAMS, 1, big, 3000, 0);
	add_rec(o, FCGIREC_PARAMS, 1, big, 3000, 0);
}

static void
build_bad_nv(struct buf *o)
{
	uint8_t bad[4] = { 5, 1, 'a', 'b' };	/* name says 5, has 2 */

	add_begin(o, 1, 1, 0);
	add_rec(o, FCGIREC_PARAMS, 1, bad, sizeof(bad), 0);
	add_rec(o, FCGIREC_PARAMS, 1, NULL, 0, 0);
}

static void
build_version_2(struct buf *o)
{
	add_begin(o, 1, 1, 0);
	o->b[0] = 2;
}

static void
build_begin_id_0(struct buf *o)
{
	add_begin(o, 0, 1, 0);
}

static void
build_short_begin(struct buf *o)
{
	add_rec(o, FCGIREC_BEGIN_REQUEST, 1, "\0\1", 2, 0);
}

static const struct {
	const char *what;
	void (*build)(struct buf *o);
	enum fcgirec_err want;
} refused[] = {
	{ "params over the cap", build_params_too_large,
	    FCGIREC_PARAMS_TOO_LARGE },
	{ "a name-value pair longer than its record", build_bad_nv,
	    FCGIREC_BAD_PARAMS },
	{ "version 2", build_version_2, FCGIREC_BAD_VERSION },
	{ "a BEGIN for id 0", build_begin_id_0, FCGIREC_BAD_RECORD },
	{ "a short BEGIN", build_short_begin, FCGIREC_BAD_RECORD },
};

static void
test_params_cap_and_malformed(void **state)
{
	static struct buf o;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct fcgirec_parser *p = fcgirec_parser_new(&lim);
		struct fcgirec_event ev;
		size_t used;
		enum fcgirec_err got;

		o.n = 0;
		refused[i].build(&o);
		got = fcgirec_feed(p, o.b, o.n, &used, &ev);
		fcgirec_parser_free(p);
		if (got != refused[i].want)
			fail_msg("%s: fcgirec_feed gave %s, want %s",
			    refused[i].what, fcgirec_strerror(got),
			    fcgirec_strerror(refused[i].want));
	}
}

static void
test_nv_lengths(void **state)
{
	uint8_t b[600], v[300];
	const uint8_t *n, *val;
	size_t off = 0, nl, vl, len;

	(void)state;
	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	len = nv(b, "K", (const char *)v, 0);	/* 4-byte value length */
	assert_int_equal(fcgirec_nv_next(b, len, &off, &n, &nl, &val, &vl),
	    FCGIREC_OK);
	assert_int_equal(nl, 1);
	assert_int_equal(vl, 299);
	assert_int_equal(off, len);
	/* Cut anywhere: malformed, never a read past the end. */
	for (size_t cut = 0; cut < len; cut++) {
		off = 0;
		assert_int_equal(fcgirec_nv_next(b, cut, &off, &n, &nl, &val,
		    &vl), FCGIREC_BAD_PARAMS);
	}
	/* A 4-byte length near 2^31 does not wrap. */
	b[0] = 0x80 | 0x7f;
	b[1] = b[2] = b[3] = 0xff;
	b[4] = 0;
	off = 0;
	assert_int_equal(fcgirec_nv_next(b, 8, &off, &n, &nl, &val, &vl),
	    FCGIREC_BAD_PARAMS);
}

/* The parser has queued exactly one END_REQUEST for id with this
 * protocol status; consumes it. */
static void
assert_end_request(struct fcgirec_parser *p, unsigned id, int status)
{
	size_t rl;
	const uint8_t *reply = fcgirec_reply(p, &rl);

	assert_int_equal(rl, 16);
	assert_int_equal(reply[1], FCGIREC_END_REQUEST);
	assert_int_equal(reply[2] << 8 | reply[3], id);
	assert_int_equal(reply[12], status);
	fcgirec_reply_consume(p, rl);
}

static void
test_abort(void **state)
{
	struct fix *f = *state;
	struct fcgirec_event evs[4];
	size_t rl;

	/* Aborted while arriving: dropped, END_REQUEST queued. */
	add_begin(&f->o, 3, 1, 1);
	add_rec(&f->o, FCGIREC_ABORT_REQUEST, 3, NULL, 0, 0);
	assert_int_equal(feed_all(f->p, f->o.b, f->o.n, f->o.n, evs, 4,
	    &f->r), 1);
	assert_int_equal(evs[0].kind, FCGIREC_EV_ABORT);
	assert_false(evs[0].taken);
	assert_true(evs[0].keep_conn);
	assert_true(fcgirec_idle(f->p));
	assert_end_request(f->p, 3, FCGIREC_REQUEST_COMPLETE);

	/* Aborted in service: reported as taken, nothing queued. */
	f->o.n = 0;
	add_request(&f->o, 4, 1, "");
	add_rec(&f->o, FCGIREC_ABORT_REQUEST, 4, NULL, 0, 0);
	assert_int_equal(feed_all(f->p, f->o.b, f->o.n, 5, evs, 4, &f->r), 2);
	assert_int_equal(evs[0].kind, FCGIREC_EV_REQUEST);
	assert_int_equal(evs[1].kind, FCGIREC_EV_ABORT);
	assert_true(evs[1].taken);
	(void)fcgirec_reply(f->p, &rl);
	assert_int_equal(rl, 0);
}

static void
test_mpx_role_values_unknown(void **state)
{
	struct fix *f = *state;
	struct fcgirec_event evs[4];
	const uint8_t *reply;
	uint8_t q[64];
	size_t rl, qn = 0;

	add_request(&f->o, 1, 1, "");
	add_request(&f->o, 2, 1, "");	/* while 1 is in service */
	assert_int_equal(feed_all(f->p, f->o.b, f->o.n, f->o.n, evs, 4,
	    &f->r), 1);
	assert_int_equal(evs[0].id, 1);
	assert_end_request(f->p, 2, FCGIREC_CANT_MPX_CONN);
	fcgirec_done(f->p);

	/* The AUTHORIZER role is not ours. */
	f->o.n = 0;
	add_begin(&f->o, 5, 2, 0);
	assert_int_equal(feed_all(f->p, f->o.b, f->o.n, f->o.n, evs, 4, NULL),
	    0);
	assert_end_request(f->p, 5, FCGIREC_UNKNOWN_ROLE);
	assert_true(fcgirec_idle(f->p));

	/* GET_VALUES: the three known names, unknown ones left out. */
	qn += nv(q + qn, "FCGI_MPXS_CONNS", "", 0);
	qn += nv(q + qn, "NOPE", "", 0);
	qn += nv(q + qn, "FCGI_MAX_CONNS", "", 0);
	f->o.n = 0;
	add_rec(&f->o, FCGIREC_GET_VALUES, 0, q, qn, 0);
	add_rec(&f->o, 99, 0, NULL, 0, 0);	/* unknown management type */
	assert_int_equal(feed_all(f->p, f->o.b, f->o.n, 1, evs, 4, NULL), 0);
	reply = fcgirec_reply(f->p, &rl);
	assert_int_equal(reply[1], FCGIREC_GET_VALUES_RESULT);
	{
		size_t clen = (size_t)(reply[4] << 8 | reply[5]);
		const char want[] = "\017\001FCGI_MPXS_CONNS0"
		    "\016\002FCGI_MAX_CONNS64";

		assert_int_equal(clen, sizeof(want) - 1);
		assert_memory_equal(reply + 8, want, clen);
		assert_int_equal((8 + clen + reply[6]) % 8, 0);
		reply += 8 + clen + reply[6];
		assert_int_equal(reply[1], FCGIREC_UNKNOWN_TYPE);
		assert_int_equal(reply[8], 99);
	}
}

/* Collects everything fcgirec_out offers, writing at most step bytes per
 * call, then parses the records back. */
static void
check_out(size_t alen, size_t blen, size_t step)
{
	static char a[70000], b[140000];
	static uint8_t wire[300000];
	struct fcgirec_out o;
	struct iovec iov[FCGIREC_OUT_IOV];
	size_t n = 0, at = 0, got_a = 0, got_b = 0;
	int ends = 0, cnt;

	for (size_t i = 0; i < alen; i++)
		a[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < blen; i++)
		b[i] = (char)('A' + i % 26);
	fcgirec_out_init(&o, 0x1234, a, alen, b, blen);
	while ((cnt = fcgirec_out_iov(&o, iov)) > 0) {
		size_t w = 0;

		for (int i = 0; i < cnt && w < step; i++) {
			size_t k = iov[i].iov_len;

			if (k > step - w)
				k = step - w;
			memcpy(wire + n, iov[i].iov_base, k);
			n += k;
			w += k;
		}
		fcgirec_out_advance(&o, w);
	}
	assert_true(fcgirec_out_done(&o));
	while (at < n) {
		uint8_t *h = wire + at;
		size_t clen = (size_t)(h[4] << 8 | h[5]);

		assert_int_equal(h[0], 1);
		assert_int_equal(h[2] << 8 | h[3], 0x1234);
		assert_int_equal((clen + h[6]) % 8, 0);
		if (h[1] == FCGIREC_STDOUT && clen > 0) {
			assert_int_equal(ends, 0);
			for (size_t i = 0; i < clen; i++) {
				char c = (char)h[8 + i];

				if (got_a < alen)
					assert_int_equal(c, a[got_a++]);
				else
					assert_int_equal(c, b[got_b++]);
			}
		} else if (h[1] == FCGIREC_STDOUT) {
			ends = 1;
		} else {
			assert_int_equal(h[1], FCGIREC_END_REQUEST);
			assert_int_equal(ends, 1);
			assert_int_equal(h[12], FCGIREC_REQUEST_COMPLETE);
			ends = 2;
		}
		at += 8 + clen + h[6];
	}
	assert_int_equal(at, n);
	assert_int_equal(ends, 2);
	assert_int_equal(got_a, alen);
	assert_int_equal(got_b, blen);
}

static void
test_out_framing(void **state)
{
	static const size_t sizes[] = { 0, 1, 7, 8, 9, 65527, 65528, 65529,
	    131056, 131057 };
	static const size_t steps[] = { 1000000, 65536, 4097, 13 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			if (sizes[i] > 65529 && steps[j] < 100)
				continue;	/* slow, same paths */
			check_out(sizes[i] % 70000, sizes[i], steps[j]);
			check_out(200, sizes[i], steps[j]);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_any_split),
		cmocka_unit_test_setup_teardown(test_body_cap, fix_setup,
		    fix_teardown),
		cmocka_unit_test(test_params_cap_and_malformed),
		cmocka_unit_test(test_nv_lengths),
		cmocka_unit_test_setup_teardown(test_abort, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_mpx_role_values_unknown, fix_setup,
		    fix_teardown),
		cmocka_unit_test(test_out_framing),
	};

	return cmocka_run_group_tests_name("fcgi_rec", tests, NULL, NULL);
}
