/*
 * fcgirec_out — the response half of the FastCGI record layer
 * (fcgirec.h): cuts a response's head and body into FCGI_STDOUT records
 * for writev, without copying them. Split from fcgirec.c (the parser).
 *
 * Ownership: a struct fcgirec_out borrows its two segments; the caller
 * keeps them alive until fcgirec_out_done.
 */
#include <string.h>
#include <sys/uio.h>

#include "fcgirec.h"
#include "fcgirec_int.h"

static const uint8_t fcgirec_zeros[8];

void
fcgirec_out_init(struct fcgirec_out *o, uint16_t id, const char *a,
    size_t alen, const char *b, size_t blen)
{
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->seg[0] = a;
	o->seg_len[0] = a != NULL ? alen : 0;
	o->seg[1] = b;
	o->seg_len[1] = b != NULL ? blen : 0;
	fcgirec_header(o->tail, FCGIREC_STDOUT, id, 0, 0);
	fcgirec_end_request(o->tail + 8, id, 0, FCGIREC_REQUEST_COMPLETE);
	/* Skip empty segments up front. */
	while (o->cur_seg < 2 && o->seg_len[o->cur_seg] == 0)
		o->cur_seg++;
}

/* The record at (seg, off): its data length and padding. */
static void
fcgirec_out_rec(const struct fcgirec_out *o, unsigned seg, size_t off,
    size_t *dlen, size_t *pad)
{
	*dlen = o->seg_len[seg] - off;
	if (*dlen > FCGIREC_CHUNK)
		*dlen = FCGIREC_CHUNK;
	*pad = (8 - *dlen % 8) % 8;
}

static void
fcgirec_out_next(const struct fcgirec_out *o, unsigned *seg, size_t *off,
    size_t dlen)
{
	*off += dlen;
	if (*off == o->seg_len[*seg]) {
		*off = 0;
		do
			(*seg)++;
		while (*seg < 2 && o->seg_len[*seg] == 0);
	}
}

/* Adds the bytes [skip, len) of (base, len) to iov. */
static int
fcgirec_iov_add(struct iovec *iov, int n, const void *base, size_t len,
    size_t *skip)
{
	if (*skip >= len) {
		*skip -= len;
		return n;
	}
	iov[n].iov_base = (void *)((const char *)base + *skip);
	iov[n].iov_len = len - *skip;
	*skip = 0;
	return n + 1;
}

int
fcgirec_out_iov(struct fcgirec_out *o, struct iovec *iov)
{
	unsigned seg = o->cur_seg, h = 0;
	size_t off = o->cur_off, skip = o->cur_done, dlen, pad;
	int n = 0;

	while (seg < 2 && n + 3 <= FCGIREC_OUT_IOV &&
	    h < FCGIREC_OUT_IOV / 3) {
		fcgirec_out_rec(o, seg, off, &dlen, &pad);
		fcgirec_header(o->hdrs[h], FCGIREC_STDOUT, o->id,
		    (uint16_t)dlen, (uint8_t)pad);
		n = fcgirec_iov_add(iov, n, o->hdrs[h], FCGIREC_HEADER_LEN,
		    &skip);
		n = fcgirec_iov_add(iov, n, o->seg[seg] + off, dlen, &skip);
		if (pad)
			n = fcgirec_iov_add(iov, n, fcgirec_zeros, pad,
			    &skip);
		h++;
		fcgirec_out_next(o, &seg, &off, dlen);
	}
	if (seg == 2 && n < FCGIREC_OUT_IOV)
		n = fcgirec_iov_add(iov, n, o->tail, sizeof(o->tail), &skip);
	return n;
}

void
fcgirec_out_advance(struct fcgirec_out *o, size_t n)
{
	size_t dlen, pad, left;

	while (n > 0 && o->cur_seg < 3) {
		if (o->cur_seg == 2) {
			dlen = 0;
			left = sizeof(o->tail) - o->cur_done;
		} else {
			fcgirec_out_rec(o, o->cur_seg, o->cur_off, &dlen,
			    &pad);
			left = FCGIREC_HEADER_LEN + dlen + pad - o->cur_done;
		}
		if (n < left) {
			o->cur_done += n;
			return;
		}
		n -= left;
		o->cur_done = 0;
		if (o->cur_seg == 2)
			o->cur_seg = 3;
		else
			fcgirec_out_next(o, &o->cur_seg, &o->cur_off, dlen);
	}
}

bool
fcgirec_out_done(const struct fcgirec_out *o)
{
	return o->cur_seg >= 3;
}
