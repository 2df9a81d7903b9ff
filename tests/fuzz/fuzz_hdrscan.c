/*
 * Fuzz target: lib/hdrscan on raw request bytes, as the header gate
 * (lib/hdrgate.c) sees them from a browser or a web server, with this
 * lws build's header names (lws_token_to_string).
 *
 * Input layout:
 *   byte 0  how many bytes each feed adds (1 + byte % 64), for the
 *           incremental end-of-head search
 *   then    the bytes of the connection
 *
 * Invariants beyond "no crash, no leak":
 *  - the end of head found feeding the bytes piece by piece is the one
 *    found on the whole buffer, and it ends with an empty line that is
 *    the first empty line of the input;
 *  - hdrscan_name_traps agrees with a separate model of the lws lexer
 *    walk (char by char through the entries: a complete entry ends the
 *    walk, no entry left fails it; a trap is an early end or a failure
 *    exactly at the ':'), for every name-like run of the input;
 *  - a head passed as OK has at most max_bytes bytes, a valid request
 *    line, and only "name: value" lines whose names do not trap;
 *  - a LEXER_TRAP result points at a name inside the head that traps;
 *  - hdrscan_check_prefix never refuses a (sampled) proper prefix of a
 *    head that passes, and never says OK.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "fuzz_check.h"
#include "hdrscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hdrscan_lexicon *lx;
static char ents[WSI_TOKEN_COUNT][64];
static size_t nents;

static void
init(void)
{
	const char *names[WSI_TOKEN_COUNT];
	size_t n = 0;

	for (int i = 0; i < (int)WSI_TOKEN_COUNT; i++) {
		const char *s = (const char *)lws_token_to_string(
		    (enum lws_token_indexes)i);

		if (!s || !*s)
			continue;
		names[n++] = s;
		snprintf(ents[nents++], sizeof(ents[0]), "%s", s);
	}
	lx = hdrscan_lexicon_new(names, n);
}

static char
low(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The model: walk lower(name) + ':' one char at a time. */
static bool
model_traps(const char *name, size_t len)
{
	char s[130];
	size_t sl = len + 1;

	if (len > 128)
		return false;	/* not modelled; callers skip these */
	for (size_t i = 0; i < len; i++)
		s[i] = low(name[i]);
	s[len] = ':';
	for (size_t k = 1; k <= sl; k++) {
		bool any = false;

		for (size_t e = 0; e < nents; e++) {
			size_t el = strlen(ents[e]);

			if (el == k && memcmp(ents[e], s, k) == 0)
				return k < sl;	/* a terminal */
			if (el > k && memcmp(ents[e], s, k) == 0)
				any = true;
		}
		if (!any)
			return k == sl;		/* failed: at the ':'? */
	}
	return true;	/* walked past the ':' into an entry */
}

static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hdrscan_limits lim = { 2048, 40 };
	const char *buf;
	size_t len, step, scanned = 0, end = 0, whole, s2 = 0;
	struct hdrscan_where w;
	enum hdrscan_result r;

	if (!lx)
		init();
	if (size < 1)
		return 0;
	step = 1 + data[0] % 64;
	buf = (const char *)data + 1;
	len = size - 1;

	/* Incremental search = one-shot search. */
	for (size_t k = step < len ? step : len; ; k += step) {
		if (k > len)
			k = len;
		end = hdrscan_head_end(buf, k, &scanned);
		FUZZ_CHECK(scanned <= k, "scanned %zu past %zu", scanned, k);
		if (end || k == len)
			break;
	}
	whole = hdrscan_head_end(buf, len, &s2);
	FUZZ_CHECK(end == whole, "incremental %zu, whole %zu", end, whole);
	if (end) {
		FUZZ_CHECK(end >= 2 && end <= len && buf[end - 1] == '\n',
		    "end %zu", end);
		/* No empty line ends before it. */
		for (size_t i = 0; i + 1 < end; i++) {
			size_t e = 0;

			if (buf[i] != '\n')
				continue;
			if (buf[i + 1] == '\n')
				e = i + 2;
			else if (buf[i + 1] == '\r' && i + 2 < len &&
			    buf[i + 2] == '\n')
				e = i + 3;
			FUZZ_CHECK(e == 0 || e == end, "blank at %zu", i);
		}
	}

	/* Every run of token characters, as a name, against the model. */
	for (size_t i = 0; i < len; ) {
		size_t j = i;

		while (j < len && is_tchar((unsigned char)buf[j]))
			j++;
		if (j > i && j - i <= 128)
			FUZZ_CHECK(hdrscan_name_traps(lx, buf + i, j - i) ==
			    model_traps(buf + i, j - i), "name '%.*s'",
			    (int)(j - i), buf + i);
		i = j + 1;
	}

	r = hdrscan_check(lx, &lim, buf, end ? end : len, &w);
	if (r == HDRSCAN_OK) {
		size_t pos, n;

		/* A good head was never refused early: each proper prefix
		 * (sampled) could still become it. */
		for (size_t k = 0; k < end; k += 1 + end / 64)
			FUZZ_CHECK(hdrscan_check_prefix(lx, &lim, buf, k,
			    NULL) == HDRSCAN_MORE, "prefix %zu of a good head "
			    "refused", k);

		FUZZ_CHECK(end && end <= lim.max_bytes, "OK without a head");
		/* Skip the request line; each other line is name: value. */
		pos = (size_t)((const char *)memchr(buf, '\n', end) - buf) + 1;
		while (pos < end) {
			const char *nl = memchr(buf + pos, '\n', end - pos);

			FUZZ_CHECK(nl, "line without LF");
			n = (size_t)(nl - (buf + pos));
			if (n == 0 || (n == 1 && buf[pos] == '\r')) {
				FUZZ_CHECK(pos + n + 1 == end, "blank early");
				break;
			}
			{
				size_t k = 0;

				while (k < n &&
				    is_tchar((unsigned char)buf[pos + k]))
					k++;
				FUZZ_CHECK(k > 0 && k < n && buf[pos + k] == ':',
				    "line without name");
				FUZZ_CHECK(!model_traps(buf + pos, k) ||
				    k > 128, "passed trap '%.*s'", (int)k,
				    buf + pos);
			}
			pos += n + 1;
		}
	} else if (r == HDRSCAN_LEXER_TRAP) {
		FUZZ_CHECK(w.name_len > 0 && w.name_off + w.name_len <= len,
		    "where %zu+%zu", w.name_off, w.name_len);
		FUZZ_CHECK(hdrscan_name_traps(lx, buf + w.name_off,
		    w.name_len), "reported name does not trap");
	}
	/* A refused prefix of an unfinished head: the same refusal (or a
	 * later one) never turns into OK. */
	if (!end) {
		enum hdrscan_result p = hdrscan_check_prefix(lx, &lim, buf,
		    len, &w);

		if (p == HDRSCAN_LEXER_TRAP)
			FUZZ_CHECK(hdrscan_name_traps(lx, buf + w.name_off,
			    w.name_len), "reported partial name does not "
			    "trap");
		FUZZ_CHECK(p != HDRSCAN_OK, "prefix OK without an end");
	}
	FUZZ_CHECK(*hdrscan_strerror(r), "empty strerror");
	return 0;
}
