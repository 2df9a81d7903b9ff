/*
 * ids — identifier rules (see ids.h). Pure functions except the request
 * id generator, which reads the kernel's random source.
 */
#include "ids.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

static bool
ids_token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool
ids_token_valid(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n]; n++)
		if (n >= max || !ids_token_char((unsigned char)s[n]))
			return false;
	return n > 0;
}

bool
ids_runtime_id_valid(const char *s)
{
	/* "." and ".." fit the pattern but are dot-segments in a URL path. */
	return ids_token_valid(s, IDS_RUNTIME_ID_MAX) && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

bool
ids_request_id_valid(const char *s)
{
	return ids_token_valid(s, IDS_REQUEST_ID_MAX);
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

void
ids_request_id_generate(char *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char rnd[22];
	size_t got = 0;

	while (got < sizeof(rnd)) {
		ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
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
