/*
 * ids — identifier rules (see ids.h). Pure functions except the request
 * id generator, which reads the kernel's random source.
 */
#include "ids.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

#define IDS_TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"abcdefghijklmnopqrstuvwxyz0123456789._-"

bool
ids_chars_valid(const char *s, size_t max, const char *set)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strspn(s, set);
	return n > 0 && n <= max && s[n] == '\0';
}

bool
ids_runtime_id_valid(const char *s)
{
	/* "." and ".." fit the pattern but are dot-segments in a URL path. */
	return ids_chars_valid(s, IDS_RUNTIME_ID_MAX, IDS_TOKEN_CHARS) &&
	    strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

bool
ids_request_id_valid(const char *s)
{
	return ids_chars_valid(s, IDS_REQUEST_ID_MAX, IDS_TOKEN_CHARS);
}

size_t
ids_utf8_len(const unsigned char *p, size_t n)
{
	unsigned int cp;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 control characters (U+0080..U+009F) are controls too. */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return len;
}

bool
ids_worker_id_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (s == NULL || len == 0 || len > IDS_WORKER_ID_MAX)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	while (i < len) {
		size_t n;

		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/')
			return false;
		n = ids_utf8_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* Random bytes for request ids are fetched 64 ids at a time: one
 * getrandom per request was ~1 of 10 syscalls of a wrg.fcgi request
 * (docs/bench.md). Per thread, so no lock; ids need to be unique, not
 * secret, and the pool never hands out a byte twice. */
#define IDS_POOL_IDS 64
static _Thread_local unsigned char ids_pool[22 * IDS_POOL_IDS];
static _Thread_local size_t ids_pool_left;

/* Fills rnd (22 bytes) from the pool; false if getrandom failed. */
static bool
ids_pool_take(unsigned char *rnd, size_t len)
{
	if (ids_pool_left < len) {
		size_t got = 0;

		while (got < sizeof(ids_pool)) {
			ssize_t n = getrandom(ids_pool + got,
			    sizeof(ids_pool) - got, 0);

			if (n <= 0)
				return false;
			got += (size_t)n;
		}
		ids_pool_left = sizeof(ids_pool);
	}
	ids_pool_left -= len;
	memcpy(rnd, ids_pool + ids_pool_left, len);
	return true;
}

void
ids_request_id_generate(char *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char rnd[22];
	size_t got = ids_pool_take(rnd, sizeof(rnd)) ? sizeof(rnd) : 0;

	if (got < sizeof(rnd)) {
		/* Only reached if getrandom is unavailable: uniqueness, not
		 * secrecy, is what a request id needs. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = got; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)((ts.tv_nsec >> (i % 24)) ^
			    (ts.tv_sec * 31 + (long)i));
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		out[i] = alphabet[rnd[i] & 63];
	out[sizeof(rnd)] = '\0';
}
