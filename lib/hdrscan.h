/*
 * hdrscan — checks the head of an HTTP/1.x request before libwebsockets
 * 4.1 parses it, for what that parser would get wrong.
 *
 * lws 4.1's header lexer walks each header name through a table of the
 * names it knows ("host:", "authorization:", "get ", "put", ...). A
 * name that is a proper prefix of a known one ("Ho", "A", "X-A") makes
 * the walk fail on the ':' itself, and then lws reads the rest of that
 * line and the next header's name as one unknown name: the next header
 * is lost, and when the odd header is the last one the request never
 * ends. A name that starts with a known name that has no ':' ("Putter",
 * "Delete-After") is taken for a second method. hdrscan finds such
 * names, plus lines lws would merge the same way (no ':', continuation
 * lines) and heads lws cannot hold, so the caller can answer 400/431
 * instead. docs/wsproxy.md ("Request heads") has the details.
 *
 * Pure: no sockets, no lws calls. The caller supplies the names lws
 * knows (lws_token_to_string()) as a lexicon.
 */
#ifndef WRG_HDRSCAN_H
#define WRG_HDRSCAN_H

#include <stdbool.h>
#include <stddef.h>

enum hdrscan_result {
	HDRSCAN_OK = 0,		/* a complete head lws will read as sent */
	HDRSCAN_MORE,		/* no end of head yet, under the cap */
	HDRSCAN_TOO_LARGE,	/* the head is over limits.max_bytes */
	HDRSCAN_TOO_MANY,	/* over limits.max_fields lines and args */
	HDRSCAN_BAD_SYNTAX,	/* not an HTTP/1.x request head */
	HDRSCAN_LEXER_TRAP,	/* a header name lws 4.1 would misread */
};

/* What the result is about, for logs: 1-based line of the head, and for
 * HDRSCAN_LEXER_TRAP the offending name (offset and length into the
 * head; names are token characters only, safe to log). */
struct hdrscan_where {
	unsigned line;
	size_t name_off, name_len;
};

struct hdrscan_limits {
	size_t max_bytes;	/* the whole head, blank line included */
	unsigned max_fields;	/* header lines + query arguments */
};

/* The names the lexer knows, lower-cased copies. */
struct hdrscan_lexicon;

/* Builds a lexicon from n names (NULL and empty ones skipped), copying
 * them. Owned by the caller: hdrscan_lexicon_free(). */
struct hdrscan_lexicon *hdrscan_lexicon_new(const char *const *names,
    size_t n);

/* Frees a lexicon; NULL is a no-op. */
void hdrscan_lexicon_free(struct hdrscan_lexicon *lx);

/* True when lws 4.1 would misread a header named name[0..len): the walk
 * of lower(name) + ':' through the lexicon either ends on a known entry
 * before its end (the name starts with "put", "delete", ...) or is still
 * inside some entry when the ':' arrives without being one ("ho:",
 * "x-a:"). name holds token characters (the caller checked). */
bool hdrscan_name_traps(const struct hdrscan_lexicon *lx, const char *name,
    size_t len);

/* Looks for the end of a head (an empty line, CRLF or bare LF) in
 * buf[0..len). *scanned carries the progress between calls on a growing
 * buffer (start it at 0), so feeding a head byte by byte costs linear
 * time. Returns the head's length, blank line included, or 0 when it
 * is not complete yet. */
size_t hdrscan_head_end(const char *buf, size_t len, size_t *scanned);

/* Checks a complete head head[0..len) (as found by hdrscan_head_end):
 * request line "METHOD SP TARGET SP HTTP/d.d", then "name: value" lines
 * with token-character names, values without NUL or bare CR, no
 * continuation lines; no name that traps lws; at most lim->max_bytes
 * bytes and lim->max_fields header lines plus query arguments. where
 * (may be NULL) says where the first problem is. */
enum hdrscan_result hdrscan_check(const struct hdrscan_lexicon *lx,
    const struct hdrscan_limits *lim, const char *head, size_t len,
    struct hdrscan_where *where);

/* Checks the first len bytes of a head that has no end yet (no blank
 * line in buf[0..len)): HDRSCAN_MORE while they can still start a valid
 * head, else what hdrscan_check would say about them (bytes that are
 * not HTTP at all, such as a TLS handshake, fail at once); over
 * lim->max_bytes is HDRSCAN_TOO_LARGE. */
enum hdrscan_result hdrscan_check_prefix(const struct hdrscan_lexicon *lx,
    const struct hdrscan_limits *lim, const char *buf, size_t len,
    struct hdrscan_where *where);

/* A short fixed text for a result. */
const char *hdrscan_strerror(enum hdrscan_result r);

#endif
