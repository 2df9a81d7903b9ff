/*
 * fuzz_check — helpers shared by the fuzz targets (see fuzz_check.h).
 */
#include "fuzz_check.h"

#include <string.h>

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
