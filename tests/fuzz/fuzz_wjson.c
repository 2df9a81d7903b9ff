/*
 * Fuzz target: the strict JSON reader. Whatever it accepts must
 * serialize to JSON that it accepts again, unchanged (no NaN, no invalid
 * UTF-8 slipping through to a browser). The parse-cost scan runs over
 * every input first (it reads untrusted bytes too); any accepted
 * document holds at least one value, the cheapest being a string.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "wjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *a, *b;
	const char *s1, *s2;
	size_t l1, l2, cost;

	cost = wjson_cost((const char *)data, size);
	a = wjson_parse((const char *)data, size, WJSON_MAX_DEPTH);
	if (a == NULL)
		return 0;
	assert(cost >= 96);
	s1 = wjson_str(a, &l1);
	b = wjson_parse(s1, l1, WJSON_MAX_DEPTH + 1);
	assert(b != NULL);
	s2 = wjson_str(b, &l2);
	assert(l1 == l2 && memcmp(s1, s2, l1) == 0);
	json_object_put(a);
	json_object_put(b);
	return 0;
}
