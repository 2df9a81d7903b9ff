/*
 * hdrscan — checks an HTTP/1.x request head for what libwebsockets
 * 4.1's header lexer would misread (see hdrscan.h). Pure; the lexicon
 * owns lower-cased copies of the names it was given.
 */
#include "hdrscan.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct hdrscan_entry {
	char *s;
	size_t len;
};

struct hdrscan_lexicon {
	struct hdrscan_entry *e;
	size_t n;
};

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed in a field value: HTAB, SP, VCHAR, obs-text. */
static bool
is_value_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

struct hdrscan_lexicon *
hdrscan_lexicon_new(const char *const *names, size_t n)
{
	struct hdrscan_lexicon *lx = xcalloc(1, sizeof(*lx));

	lx->e = xcalloc(n ? n : 1, sizeof(*lx->e));
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (names[i] == NULL || !names[i][0])
			continue;
		len = strlen(names[i]);
		lx->e[lx->n].s = xmalloc(len + 1);
		for (size_t j = 0; j <= len; j++)
			lx->e[lx->n].s[j] = lower(names[i][j]);
		lx->e[lx->n].len = len;
		lx->n++;
	}
	return lx;
}

void
hdrscan_lexicon_free(struct hdrscan_lexicon *lx)
{
	if (lx == NULL)
		return;
	for (size_t i = 0; i < lx->n; i++)
		free(lx->e[i].s);
	free(lx->e);
	free(lx);
}

/* Does lower(name[0..len)) + ':' start with the first plen bytes of e,
 * comparing only those? (plen <= len + 1) */
static bool
name_colon_has_prefix(const char *name, size_t len, const char *e,
    size_t plen)
{
	for (size_t i = 0; i < plen; i++) {
		char c = i < len ? lower(name[i]) : ':';

		if (c != e[i])
			return false;
	}
	return true;
}

bool
hdrscan_name_traps(const struct hdrscan_lexicon *lx, const char *name,
    size_t len)
{
	bool inside = false, exact = false;

	for (size_t i = 0; i < lx->n; i++) {
		const struct hdrscan_entry *e = &lx->e[i];

		/* An entry that is a proper prefix of name + ':' ends
		 * the walk early: lws takes the rest for that token's
		 * value ("putter:" read as the method "put"). */
		if (e->len < len + 1 &&
		    name_colon_has_prefix(name, len, e->s, e->len))
			return true;
		if (e->len >= len &&
		    name_colon_has_prefix(name, len, e->s, len)) {
			/* The walk is still inside e when the ':' comes. */
			inside = true;
			if (e->len == len + 1 && e->s[len] == ':')
				exact = true;
		}
	}
	/* Inside an entry at the ':' but not at its end: the ':' fails
	 * the walk (or walks on into the value). Otherwise the walk failed
	 * before the ':' and lws files the header as unknown, correctly. */
	return inside && !exact;
}

size_t
hdrscan_head_end(const char *buf, size_t len, size_t *scanned)
{
	size_t i;

	for (i = *scanned; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 >= len)
			break;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r') {
			if (i + 2 >= len)
				break;
			if (buf[i + 2] == '\n')
				return i + 3;
		}
	}
	/* Resume at an undecided '\n' (or the end) next time. */
	*scanned = i < len ? i : len;
	return 0;
}

/* Checks "METHOD SP TARGET SP HTTP/d.d"; counts the target's query
 * arguments into *args the way lws makes fragments of them. */
static bool
request_line_ok(const char *s, size_t n, unsigned *args)
{
	size_t i = 0, t0;
	bool query = false;

	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ' ')
		return false;
	t0 = ++i;
	*args = 0;
	while (i < n && s[i] != ' ') {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c == 0x7f)
			return false;
		if (c == '?' && !query) {
			query = true;
			(*args)++;
		} else if (query && (c == '&' || c == ';')) {
			(*args)++;
		}
		i++;
	}
	if (i == t0 || i >= n)
		return false;
	i++;
	return n - i == 8 && memcmp(s + i, "HTTP/", 5) == 0 &&
	    s[i + 5] >= '0' && s[i + 5] <= '9' && s[i + 6] == '.' &&
	    s[i + 7] >= '0' && s[i + 7] <= '9';
}

/* The unfinished last line of a head that has no end yet: could it
 * still become a valid line? (Lets a TLS handshake or other non-HTTP
 * bytes be refused at once instead of at the deadline.) */
static enum hdrscan_result
partial_line(const struct hdrscan_lexicon *lx, const char *s, size_t n,
    bool request_line)
{
	size_t i = 0;
	bool cr = n && s[n - 1] == '\r';

	if (cr)
		n--;			/* the LF may follow */
	for (i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\0')
			return HDRSCAN_BAD_SYNTAX;
	for (i = 0; i < n && is_tchar((unsigned char)s[i]); i++)
		;
	if (request_line) {
		/* METHOD, then bytes without controls */
		if (i < n && (i == 0 || s[i] != ' '))
			return HDRSCAN_BAD_SYNTAX;
		for (; i < n; i++)
			if ((unsigned char)s[i] < 0x20 ||
			    (unsigned char)s[i] == 0x7f)
				return HDRSCAN_BAD_SYNTAX;
		return HDRSCAN_MORE;
	}
	if (i == n)		/* a name so far; a line end needs a ':' */
		return cr && n ? HDRSCAN_BAD_SYNTAX : HDRSCAN_MORE;
	if (i == 0 || s[i] != ':')
		return HDRSCAN_BAD_SYNTAX;
	for (size_t j = i + 1; j < n; j++)
		if (!is_value_byte((unsigned char)s[j]))
			return HDRSCAN_BAD_SYNTAX;
	return hdrscan_name_traps(lx, s, i) ? HDRSCAN_LEXER_TRAP :
	    HDRSCAN_MORE;
}

/* Checks head[0..len): complete (it must end with its one blank line)
 * or not (then HDRSCAN_MORE while it can still become a valid head). */
static enum hdrscan_result
scan(const struct hdrscan_lexicon *lx, const struct hdrscan_limits *lim,
    const char *head, size_t len, bool complete, struct hdrscan_where *where)
{
	struct hdrscan_where w = { 0, 0, 0 };
	enum hdrscan_result r = HDRSCAN_BAD_SYNTAX;
	unsigned fields = 0, args = 0;
	size_t pos = 0;

	if (len > lim->max_bytes) {
		r = HDRSCAN_TOO_LARGE;
		goto out;
	}
	while (pos < len || !complete) {
		const char *s = head + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n, i;

		w.line++;
		if (nl == NULL) {
			if (complete)
				goto out;	/* no blank line at the end */
			r = partial_line(lx, s, len - pos, w.line == 1);
			if (r == HDRSCAN_LEXER_TRAP) {
				w.name_off = pos;
				w.name_len = (size_t)((const char *)memchr(s,
				    ':', len - pos) - s);
			} else if (r == HDRSCAN_MORE) {
				w.line = 0;
			}
			goto out;
		}
		n = (size_t)(nl - s);
		pos += n + 1;
		if (n && s[n - 1] == '\r')
			n--;
		for (i = 0; i < n; i++)
			if (s[i] == '\r' || s[i] == '\0')
				goto out;	/* bare CR, NUL */
		if (w.line == 1) {
			if (!request_line_ok(s, n, &args))
				goto out;
			fields = args;
			if (fields > lim->max_fields) {
				r = HDRSCAN_TOO_MANY;
				goto out;
			}
			continue;
		}
		if (n == 0) {
			/* The blank line: it must end the head. */
			if (!complete || pos != len)
				goto out;
			r = HDRSCAN_OK;
			w.line = 0;
			goto out;
		}
		/* A name of token characters right before the ':' (no
		 * continuation line, no space before the colon). */
		for (i = 0; i < n && is_tchar((unsigned char)s[i]); i++)
			;
		if (i == 0 || i >= n || s[i] != ':')
			goto out;
		for (size_t j = i + 1; j < n; j++)
			if (!is_value_byte((unsigned char)s[j]))
				goto out;
		if (hdrscan_name_traps(lx, s, i)) {
			w.name_off = (size_t)(s - head);
			w.name_len = i;
			r = HDRSCAN_LEXER_TRAP;
			goto out;
		}
		if (++fields > lim->max_fields) {
			r = HDRSCAN_TOO_MANY;
			goto out;
		}
	}
out:
	if (where != NULL)
		*where = w;
	return r;
}

enum hdrscan_result
hdrscan_check(const struct hdrscan_lexicon *lx,
    const struct hdrscan_limits *lim, const char *head, size_t len,
    struct hdrscan_where *where)
{
	return scan(lx, lim, head, len, true, where);
}

enum hdrscan_result
hdrscan_check_prefix(const struct hdrscan_lexicon *lx,
    const struct hdrscan_limits *lim, const char *buf, size_t len,
    struct hdrscan_where *where)
{
	return scan(lx, lim, buf, len, false, where);
}

const char *
hdrscan_strerror(enum hdrscan_result r)
{
	switch (r) {
	case HDRSCAN_OK:
		return "ok";
	case HDRSCAN_MORE:
		return "request head incomplete";
	case HDRSCAN_TOO_LARGE:
		return "request head too large";
	case HDRSCAN_TOO_MANY:
		return "too many header lines or query arguments";
	case HDRSCAN_BAD_SYNTAX:
		return "malformed request head";
	case HDRSCAN_LEXER_TRAP:
		return "header name the lws lexer misreads";
	}
	return "unknown";
}
