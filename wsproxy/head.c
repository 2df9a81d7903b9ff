/*
 * head — parsing a browser's request head before lws does (see head.h).
 */
#include "head.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 token characters. */
static bool
head_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field value bytes: visible ASCII, SP, HTAB and obs-text; never CR, LF
 * or NUL. */
static bool
head_vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Skips optional whitespace at *p (< end). */
static const char *
head_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Sets out->proto from one scheme token v[0..n): "http"/"ws" give
 * "http", "https"/"wss" give "https", anything else "-" (matches no
 * Origin: the front said something we do not understand). */
static void
head_set_proto(struct head *out, const char *v, size_t n)
{
	if ((n == 4 && strncasecmp(v, "http", 4) == 0) ||
	    (n == 2 && strncasecmp(v, "ws", 2) == 0))
		memcpy(out->proto, "http", 5);
	else if ((n == 5 && strncasecmp(v, "https", 5) == 0) ||
	    (n == 3 && strncasecmp(v, "wss", 3) == 0))
		memcpy(out->proto, "https", 6);
	else
		memcpy(out->proto, "-", 2);
}

/* X-Forwarded-Proto: the first comma-separated value. */
static void
head_xfp(struct head *out, const char *v, const char *end)
{
	const char *e;

	v = head_ows(v, end);
	for (e = v; e < end && *e != ',' && *e != ' ' && *e != '\t'; e++)
		;
	head_set_proto(out, v, (size_t)(e - v));
}

/* Forwarded (RFC 7239): proto= of the first element, maybe quoted. */
static void
head_forwarded(struct head *out, const char *v, const char *end)
{
	const char *elem_end = memchr(v, ',', (size_t)(end - v));
	const char *p = v, *e;

	if (elem_end != NULL)
		end = elem_end;
	while (p < end) {
		p = head_ows(p, end);
		if ((size_t)(end - p) > 6 && strncasecmp(p, "proto=", 6) == 0) {
			p += 6;
			if (p < end && *p == '"')
				p++;
			for (e = p; e < end && *e != '"' && *e != ';' &&
			    *e != ' ' && *e != '\t'; e++)
				;
			head_set_proto(out, p, (size_t)(e - p));
			return;
		}
		e = memchr(p, ';', (size_t)(end - p));
		if (e == NULL)
			return;
		p = e + 1;
	}
}

/* The request line at buf[0..eol): METHOD SP origin-form SP HTTP/1.x. */
static enum head_err
head_request_line(const char *buf, const char *eol, struct head *out)
{
	const char *p = buf, *t;

	while (p < eol && head_tchar((unsigned char)*p))
		p++;
	if (p == buf || p >= eol || *p != ' ')
		return HEAD_MALFORMED;
	t = ++p;
	while (p < eol && (unsigned char)*p > 0x20 && *p != 0x7f)
		p++;
	if (p == t || *t != '/' || p >= eol || *p != ' ')
		return HEAD_MALFORMED;
	out->target = t;
	out->target_len = (size_t)(p - t);
	out->path_len = out->target_len;
	t = memchr(out->target, '?', out->target_len);
	if (t != NULL)
		out->path_len = (size_t)(t - out->target);
	p++;
	if (eol - p != 8 || (memcmp(p, "HTTP/1.1", 8) != 0 &&
	    memcmp(p, "HTTP/1.0", 8) != 0))
		return HEAD_MALFORMED;
	return HEAD_OK;
}

/* One field line at p[0..eol). */
static enum head_err
head_field(const char *p, const char *eol, bool *seen_xfp, struct head *out)
{
	const char *name = p, *v;
	size_t n;

	while (p < eol && head_tchar((unsigned char)*p))
		p++;
	n = (size_t)(p - name);
	if (n == 0 || p >= eol || *p != ':')
		return HEAD_MALFORMED;
	for (v = p + 1; v < eol; v++)
		if (!head_vchar((unsigned char)*v))
			return HEAD_MALFORMED;
	if (n == 17 && strncasecmp(name, "x-forwarded-proto", 17) == 0) {
		if (!*seen_xfp)
			head_xfp(out, p + 1, eol);
		*seen_xfp = true;
	} else if (n == 9 && strncasecmp(name, "forwarded", 9) == 0 &&
	    !*seen_xfp && !out->proto[0]) {
		head_forwarded(out, p + 1, eol);
	}
	return HEAD_OK;
}

enum head_err
head_parse(const char *buf, size_t len, struct head *out)
{
	const char *p = buf, *end, *lf;
	bool first = true, seen_xfp = false;
	enum head_err e;

	memset(out, 0, sizeof(*out));
	end = buf + (len < HEAD_MAX ? len : HEAD_MAX);
	while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		/* A line ends in CRLF or, as lws and RFC 9112 allow, LF. */
		const char *eol = lf > p && lf[-1] == '\r' ? lf - 1 : lf;

		if (memchr(p, '\r', (size_t)(eol - p)) != NULL)
			return HEAD_MALFORMED;	/* bare CR */
		if (first) {
			e = head_request_line(p, eol, out);
			first = false;
		} else if (eol == p) {
			out->len = (size_t)(lf + 1 - buf);
			return HEAD_OK;
		} else if (*p == ' ' || *p == '\t') {
			e = HEAD_MALFORMED;	/* obs-fold */
		} else {
			e = head_field(p, eol, &seen_xfp, out);
		}
		if (e != HEAD_OK)
			return e;
		p = lf + 1;
	}
	return len >= HEAD_MAX ? HEAD_TOO_LARGE : HEAD_INCOMPLETE;
}
