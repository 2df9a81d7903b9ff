/*
 * fuzz_check — helpers shared by the fuzz targets (see fuzz_check.h).
 */
#include "fuzz_check.h"

#include <string.h>

#include "registry.h"
#include "wlog.h"

struct registry *
fuzz_registry(const char *prog, const char *conf)
{
	struct registry *reg;
	char *e = NULL;

	wlog_init(prog, WLOG_ERR);
	reg = registry_load_buffer("fuzz.conf", conf, strlen(conf), &e);
	FUZZ_CHECK(reg != NULL, "config: %s", e ? e : "-");
	return reg;
}

char *
fuzz_take_field(const uint8_t **p, size_t *left)
{
	const uint8_t *nul = memchr(*p, 0, *left);
	size_t n = nul ? (size_t)(nul - *p) : *left;
	char *s = strndup((const char *)*p, n);

	if (s == NULL)
		abort();
	*p += n;
	*left -= n;
	if (nul) {
		(*p)++;
		(*left)--;
	}
	return s;
}

struct json_object *
fuzz_member(struct json_object *o, const char *key)
{
	struct json_object *m = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &m))
		return NULL;
	return m;
}

const char *
fuzz_member_str(struct json_object *o, const char *key)
{
	struct json_object *m = fuzz_member(o, key);

	return m && json_object_is_type(m, json_type_string) ?
	    json_object_get_string(m) : NULL;
}

static int
fuzz_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t
fuzz_decode_segment(const char *s, size_t n, char *out, size_t cap,
    const char *what)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		FUZZ_CHECK(o < cap, "long segment in %s", what);
		if (c == '%') {
			int hi = i + 2 < n ? fuzz_hexval(s[i + 1]) : -1;
			int lo = hi < 0 ? -1 : fuzz_hexval(s[i + 2]);

			FUZZ_CHECK(hi >= 0 && lo >= 0, "bad %% in %s", what);
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
			continue;
		}
		FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '~' || c == '-', "raw byte 0x%02x in %s",
		    (unsigned char)c, what);
		out[o++] = c;
	}
	return o;
}
