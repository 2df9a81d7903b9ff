/*
 * fcgirec — the FastCGI record layer of wrg.fcgi: a byte-at-a-time
 * parser (no input buffer: a record's content goes straight to where it
 * belongs, so a connection costs the parser struct and nothing more
 * while idle). Contract in fcgirec.h; the framing of responses is
 * fcgirec_out.c's.
 *
 * Ownership: a parser owns the request arriving on it until
 * fcgirec_take hands it to the caller, and always its reply buffer
 * (management answers, read with fcgirec_reply).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgirec.h"
#include "fcgirec_int.h"
#include "xalloc.h"

#define FCGIREC_VERSION 1
#define FCGIREC_RESPONDER 1
#define FCGIREC_KEEP_CONN 1

/* Where the content of the record being read goes. */
enum fcgirec_sink {
	FCGIREC_SINK_SKIP,
	FCGIREC_SINK_SMALL,
	FCGIREC_SINK_PARAMS,
	FCGIREC_SINK_STDIN
};

enum fcgirec_rstate {
	FCGIREC_R_NONE,		/* no request on this connection */
	FCGIREC_R_ARRIVING,	/* BEGIN seen, params/stdin coming */
	FCGIREC_R_TAKEN		/* complete, in service */
};

struct fcgirec_parser {
	struct fcgirec_limits lim;
	uint8_t hdr[FCGIREC_HEADER_LEN];
	size_t hdr_have;
	uint8_t type, plen;
	uint16_t id, clen;
	size_t content_have, pad_have;
	enum fcgirec_sink sink;
	uint8_t small[FCGIREC_SMALL_MAX];

	enum fcgirec_rstate rstate;
	uint16_t rid;
	bool params_done, stdin_done;
	struct fcgirec_req *req;	/* owned while arriving */

	uint8_t *reply;			/* whole records, capped */
	size_t reply_len, reply_alloc;
};

const char *
fcgirec_strerror(enum fcgirec_err e)
{
	switch (e) {
	case FCGIREC_OK: return "ok";
	case FCGIREC_BAD_VERSION: return "not FastCGI version 1";
	case FCGIREC_BAD_RECORD: return "record out of protocol";
	case FCGIREC_BAD_PARAMS: return "malformed params";
	case FCGIREC_PARAMS_TOO_LARGE: return "params too large";
	case FCGIREC_REPLY_FULL: return "peer does not read replies";
	}
	return "unknown error";
}

struct fcgirec_parser *
fcgirec_parser_new(const struct fcgirec_limits *lim)
{
	struct fcgirec_parser *p = xcalloc(1, sizeof(*p));

	p->lim = *lim;
	return p;
}

void
fcgirec_req_free(struct fcgirec_req *r)
{
	if (r == NULL)
		return;
	free(r->names);
	free(r->values);
	free(r->strs);
	free(r->raw);
	free(r->body);
	free(r);
}

void
fcgirec_parser_free(struct fcgirec_parser *p)
{
	if (p == NULL)
		return;
	fcgirec_req_free(p->req);
	free(p->reply);
	free(p);
}

void
fcgirec_header(uint8_t out[FCGIREC_HEADER_LEN], enum fcgirec_type type,
    uint16_t id, uint16_t clen, uint8_t plen)
{
	out[0] = FCGIREC_VERSION;
	out[1] = (uint8_t)type;
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	out[4] = (uint8_t)(clen >> 8);
	out[5] = (uint8_t)clen;
	out[6] = plen;
	out[7] = 0;
}

void
fcgirec_end_request(uint8_t out[16], uint16_t id, uint32_t app_status,
    enum fcgirec_status status)
{
	fcgirec_header(out, FCGIREC_END_REQUEST, id, 8, 0);
	out[8] = (uint8_t)(app_status >> 24);
	out[9] = (uint8_t)(app_status >> 16);
	out[10] = (uint8_t)(app_status >> 8);
	out[11] = (uint8_t)app_status;
	out[12] = (uint8_t)status;
	memset(out + 13, 0, 3);
}

/* Appends whole records to the reply queue; false past its cap. */
static bool
fcgirec_reply_add(struct fcgirec_parser *p, const uint8_t *b, size_t n)
{
	if (p->reply_len + n > FCGIREC_REPLY_MAX)
		return false;
	if (p->reply_len + n > p->reply_alloc) {
		p->reply_alloc = p->reply_len + n < 256 ? 256 :
		    (p->reply_len + n) * 2;
		if (p->reply_alloc > FCGIREC_REPLY_MAX)
			p->reply_alloc = FCGIREC_REPLY_MAX;
		p->reply = xrealloc(p->reply, p->reply_alloc);
	}
	memcpy(p->reply + p->reply_len, b, n);
	p->reply_len += n;
	return true;
}

static bool
fcgirec_reply_end(struct fcgirec_parser *p, uint16_t id,
    enum fcgirec_status status)
{
	uint8_t rec[16];

	fcgirec_end_request(rec, id, 0, status);
	return fcgirec_reply_add(p, rec, sizeof(rec));
}

const uint8_t *
fcgirec_reply(const struct fcgirec_parser *p, size_t *len)
{
	*len = p->reply_len;
	return p->reply;
}

void
fcgirec_reply_consume(struct fcgirec_parser *p, size_t n)
{
	if (n >= p->reply_len) {
		p->reply_len = 0;
		/* An idle connection keeps no reply buffer. */
		free(p->reply);
		p->reply = NULL;
		p->reply_alloc = 0;
		return;
	}
	memmove(p->reply, p->reply + n, p->reply_len - n);
	p->reply_len -= n;
}

enum fcgirec_err
fcgirec_nv_next(const uint8_t *buf, size_t len, size_t *off,
    const uint8_t **name, size_t *nlen, const uint8_t **val, size_t *vlen)
{
	size_t o = *off, l[2];

	for (int i = 0; i < 2; i++) {
		if (o >= len)
			return FCGIREC_BAD_PARAMS;
		if (buf[o] & 0x80) {
			if (len - o < 4)
				return FCGIREC_BAD_PARAMS;
			l[i] = ((size_t)(buf[o] & 0x7f) << 24) |
			    ((size_t)buf[o + 1] << 16) |
			    ((size_t)buf[o + 2] << 8) | buf[o + 3];
			o += 4;
		} else {
			l[i] = buf[o++];
		}
	}
	if (l[0] > len - o || l[1] > len - o - l[0])
		return FCGIREC_BAD_PARAMS;
	*name = buf + o;
	*nlen = l[0];
	*val = buf + o + l[0];
	*vlen = l[1];
	*off = o + l[0] + l[1];
	return FCGIREC_OK;
}

/* Splits the raw PARAMS stream into NUL-terminated names and values. */
static enum fcgirec_err
fcgirec_params_split(struct fcgirec_req *r)
{
	const uint8_t *raw = (const uint8_t *)r->raw, *n, *v;
	size_t off = 0, count = 0, nl, vl, at = 0;
	enum fcgirec_err e;

	while (off < r->raw_len) {
		e = fcgirec_nv_next(raw, r->raw_len, &off, &n, &nl, &v, &vl);
		if (e != FCGIREC_OK)
			return e;
		count++;
	}
	/* Each pair is at least 2 length bytes, which pay for the NULs. */
	r->strs = xmalloc(r->raw_len + 1);
	r->names = xcalloc(count + 1, sizeof(char *));
	r->values = xcalloc(count + 1, sizeof(char *));
	for (off = 0; off < r->raw_len; r->nparams++) {
		(void)fcgirec_nv_next(raw, r->raw_len, &off, &n, &nl, &v, &vl);
		r->names[r->nparams] = r->strs + at;
		memcpy(r->strs + at, n, nl);
		r->strs[at + nl] = '\0';
		at += nl + 1;
		r->values[r->nparams] = r->strs + at;
		memcpy(r->strs + at, v, vl);
		r->strs[at + vl] = '\0';
		at += vl + 1;
	}
	free(r->raw);
	r->raw = NULL;
	return FCGIREC_OK;
}

const char *
fcgirec_req_param(const struct fcgirec_req *r, const char *name)
{
	for (size_t i = 0; i < r->nparams; i++)
		if (strcmp(r->names[i], name) == 0)
			return r->values[i];
	return NULL;
}

/* Appends n bytes of STDIN, keeping at most max_body_bytes + 1. */
static void
fcgirec_body_add(struct fcgirec_parser *p, const uint8_t *b, size_t n)
{
	struct fcgirec_req *r = p->req;
	size_t keep = p->lim.max_body_bytes + 1;

	if (r->body_len + n > keep) {
		r->body_truncated = true;
		n = keep - r->body_len;
	}
	if (n == 0)
		return;
	if (r->body_len + n > r->body_alloc) {
		size_t want = r->body_alloc ? r->body_alloc : 4096;

		while (want < r->body_len + n)
			want *= 2;
		if (want > keep)
			want = keep;
		r->body = xrealloc(r->body, want);
		r->body_alloc = want;
	}
	memcpy(r->body + r->body_len, b, n);
	r->body_len += n;
}

/* GET_VALUES: answers the three variables the spec defines. */
static enum fcgirec_err
fcgirec_get_values(struct fcgirec_parser *p)
{
	uint8_t out[FCGIREC_HEADER_LEN + 256];
	size_t off = 0, at = FCGIREC_HEADER_LEN, nl, vl;
	const uint8_t *n, *v;
	char val[16];

	while (off < p->clen) {
		const char *ans = NULL;

		if (fcgirec_nv_next(p->small, p->clen, &off, &n, &nl, &v,
		    &vl) != FCGIREC_OK)
			return FCGIREC_BAD_PARAMS;
		if (nl == 14 && memcmp(n, "FCGI_MAX_CONNS", 14) == 0)
			ans = "c";
		else if (nl == 13 && memcmp(n, "FCGI_MAX_REQS", 13) == 0)
			ans = "c";
		else if (nl == 15 && memcmp(n, "FCGI_MPXS_CONNS", 15) == 0)
			ans = "0";
		if (ans == NULL)
			continue;
		if (ans[0] == 'c')
			snprintf(val, sizeof(val), "%u", p->lim.max_conns);
		else
			snprintf(val, sizeof(val), "%s", ans);
		/* At most three answers of < 40 bytes each fit in out. */
		if (at + 2 + nl + strlen(val) > sizeof(out))
			continue;
		out[at++] = (uint8_t)nl;
		out[at++] = (uint8_t)strlen(val);
		memcpy(out + at, n, nl);
		at += nl;
		memcpy(out + at, val, strlen(val));
		at += strlen(val);
	}
	{
		size_t clen = at - FCGIREC_HEADER_LEN;
		uint8_t pad = (uint8_t)((8 - clen % 8) % 8);

		fcgirec_header(out, FCGIREC_GET_VALUES_RESULT, 0,
		    (uint16_t)clen, pad);
		memset(out + at, 0, pad);
		if (!fcgirec_reply_add(p, out, at + pad))
			return FCGIREC_REPLY_FULL;
	}
	return FCGIREC_OK;
}

/* A header is complete: checks it and decides where its content goes. */
static enum fcgirec_err
fcgirec_on_header(struct fcgirec_parser *p)
{
	const uint8_t *h = p->hdr;
	bool ours;

	if (h[0] != FCGIREC_VERSION)
		return FCGIREC_BAD_VERSION;
	p->type = h[1];
	p->id = (uint16_t)(h[2] << 8 | h[3]);
	p->clen = (uint16_t)(h[4] << 8 | h[5]);
	p->plen = h[6];
	p->content_have = p->pad_have = 0;
	p->sink = FCGIREC_SINK_SKIP;
	ours = p->rstate == FCGIREC_R_ARRIVING && p->id == p->rid;

	switch (p->type) {
	case FCGIREC_BEGIN_REQUEST:
		if (p->id == 0 || p->clen < 8 || p->clen > FCGIREC_SMALL_MAX)
			return FCGIREC_BAD_RECORD;
		p->sink = FCGIREC_SINK_SMALL;
		break;
	case FCGIREC_ABORT_REQUEST:
		if (p->id == 0)
			return FCGIREC_BAD_RECORD;
		break;
	case FCGIREC_PARAMS:
		if (!ours || p->params_done)
			break;
		if (p->req->raw_len + p->clen > p->lim.max_params_bytes)
			return FCGIREC_PARAMS_TOO_LARGE;
		p->sink = FCGIREC_SINK_PARAMS;
		break;
	case FCGIREC_STDIN:
		if (ours && !p->stdin_done)
			p->sink = FCGIREC_SINK_STDIN;
		break;
	case FCGIREC_GET_VALUES:
		if (p->id != 0 || p->clen > FCGIREC_SMALL_MAX)
			return FCGIREC_BAD_RECORD;
		p->sink = FCGIREC_SINK_SMALL;
		break;
	default:
		/* Records of other ids or roles (DATA, a stray STDOUT) are
		 * ignored; an unknown management type is answered. */
		break;
	}
	return FCGIREC_OK;
}

static void
fcgirec_on_content(struct fcgirec_parser *p, const uint8_t *b, size_t n)
{
	struct fcgirec_req *r = p->req;

	switch (p->sink) {
	case FCGIREC_SINK_SMALL:
		memcpy(p->small + p->content_have, b, n);
		break;
	case FCGIREC_SINK_PARAMS:
		/* Capped in fcgirec_on_header; grown per record. */
		r->raw = xrealloc(r->raw, r->raw_len + n);
		memcpy(r->raw + r->raw_len, b, n);
		r->raw_len += n;
		break;
	case FCGIREC_SINK_STDIN:
		fcgirec_body_add(p, b, n);
		break;
	case FCGIREC_SINK_SKIP:
		break;
	}
}

static enum fcgirec_err
fcgirec_on_begin(struct fcgirec_parser *p)
{
	unsigned role = (unsigned)(p->small[0] << 8 | p->small[1]);

	if (p->rstate != FCGIREC_R_NONE) {
		if (p->id == p->rid)
			return FCGIREC_BAD_RECORD;
		return fcgirec_reply_end(p, p->id, FCGIREC_CANT_MPX_CONN) ?
		    FCGIREC_OK : FCGIREC_REPLY_FULL;
	}
	if (role != FCGIREC_RESPONDER)
		return fcgirec_reply_end(p, p->id, FCGIREC_UNKNOWN_ROLE) ?
		    FCGIREC_OK : FCGIREC_REPLY_FULL;
	p->req = xcalloc(1, sizeof(*p->req));
	p->req->id = p->id;
	p->req->keep_conn = (p->small[2] & FCGIREC_KEEP_CONN) != 0;
	p->rstate = FCGIREC_R_ARRIVING;
	p->rid = p->id;
	p->params_done = p->stdin_done = false;
	return FCGIREC_OK;
}

/* A record is complete. */
static enum fcgirec_err
fcgirec_on_record(struct fcgirec_parser *p, struct fcgirec_event *ev)
{
	bool ours = p->rstate == FCGIREC_R_ARRIVING && p->id == p->rid;
	enum fcgirec_err e = FCGIREC_OK;

	switch (p->type) {
	case FCGIREC_BEGIN_REQUEST:
		return fcgirec_on_begin(p);
	case FCGIREC_ABORT_REQUEST:
		if (ours) {
			ev->kind = FCGIREC_EV_ABORT;
			ev->id = p->id;
			ev->taken = false;
			ev->keep_conn = p->req->keep_conn;
			fcgirec_req_free(p->req);
			p->req = NULL;
			p->rstate = FCGIREC_R_NONE;
			if (!fcgirec_reply_end(p, p->id,
			    FCGIREC_REQUEST_COMPLETE))
				return FCGIREC_REPLY_FULL;
		} else if (p->rstate == FCGIREC_R_TAKEN && p->id == p->rid) {
			ev->kind = FCGIREC_EV_ABORT;
			ev->id = p->id;
			ev->taken = true;
		}
		return FCGIREC_OK;
	case FCGIREC_PARAMS:
		if (p->sink == FCGIREC_SINK_PARAMS && p->clen == 0) {
			p->params_done = true;
			e = fcgirec_params_split(p->req);
		}
		break;
	case FCGIREC_STDIN:
		if (p->sink == FCGIREC_SINK_STDIN && p->clen == 0)
			p->stdin_done = true;
		break;
	case FCGIREC_GET_VALUES:
		return fcgirec_get_values(p);
	default:
		if (p->id == 0) {
			uint8_t rec[16];

			fcgirec_header(rec, FCGIREC_UNKNOWN_TYPE, 0, 8, 0);
			memset(rec + 8, 0, 8);
			rec[8] = p->type;
			if (!fcgirec_reply_add(p, rec, sizeof(rec)))
				return FCGIREC_REPLY_FULL;
		}
		return FCGIREC_OK;
	}
	if (e == FCGIREC_OK && ours && p->params_done && p->stdin_done) {
		p->rstate = FCGIREC_R_TAKEN;
		ev->kind = FCGIREC_EV_REQUEST;
		ev->id = p->rid;
	}
	return e;
}

enum fcgirec_err
fcgirec_feed(struct fcgirec_parser *p, const uint8_t *buf, size_t len,
    size_t *used, struct fcgirec_event *ev)
{
	size_t off = 0, n;
	enum fcgirec_err e = FCGIREC_OK;

	memset(ev, 0, sizeof(*ev));
	while (off < len || p->hdr_have == FCGIREC_HEADER_LEN) {
		if (p->hdr_have < FCGIREC_HEADER_LEN) {
			n = FCGIREC_HEADER_LEN - p->hdr_have;
			if (n > len - off)
				n = len - off;
			memcpy(p->hdr + p->hdr_have, buf + off, n);
			p->hdr_have += n;
			off += n;
			if (p->hdr_have < FCGIREC_HEADER_LEN)
				break;
			e = fcgirec_on_header(p);
			if (e != FCGIREC_OK)
				break;
		} else if (p->content_have < p->clen) {
			n = p->clen - p->content_have;
			if (n > len - off)
				n = len - off;
			if (n > 0)
				fcgirec_on_content(p, buf + off, n);
			p->content_have += n;
			off += n;
		} else if (p->pad_have < p->plen) {
			n = p->plen - p->pad_have;
			if (n > len - off)
				n = len - off;
			p->pad_have += n;
			off += n;
		}
		if (p->content_have < p->clen || p->pad_have < p->plen) {
			if (off == len)
				break;
			continue;
		}
		/* Record complete. */
		p->hdr_have = 0;
		e = fcgirec_on_record(p, ev);
		if (e != FCGIREC_OK || ev->kind != FCGIREC_EV_NONE)
			break;
	}
	*used = off;
	return e;
}

struct fcgirec_req *
fcgirec_take(struct fcgirec_parser *p)
{
	struct fcgirec_req *r = p->req;

	p->req = NULL;
	return r;
}

void
fcgirec_done(struct fcgirec_parser *p)
{
	fcgirec_req_free(p->req);
	p->req = NULL;
	p->rstate = FCGIREC_R_NONE;
}

bool
fcgirec_idle(const struct fcgirec_parser *p)
{
	return p->rstate == FCGIREC_R_NONE && p->hdr_have == 0;
}

bool
fcgirec_in_head(const struct fcgirec_parser *p)
{
	if (p->rstate == FCGIREC_R_ARRIVING)
		return !p->params_done;
	return p->rstate == FCGIREC_R_NONE && p->hdr_have != 0;
}
