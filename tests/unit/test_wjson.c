/*
 * Unit tests for lib/wjson: the strict JSON reader every network-facing
 * part uses, and the config reader that allows comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wjson.h"

static struct json_object *
p(const char *s)
{
	return wjson_parse(s, strlen(s), WJSON_MAX_DEPTH);
}

static void
test_accepts(void **state)
{
	struct json_object *o;
	const char *s;
	size_t len;

	(void)state;
	o = p("{\"a\": [1, 2.5, \"x/y\", null, true]}  \n");
	assert_non_null(o);
	s = wjson_str(o, &len);
	assert_string_equal(s, "{\"a\":[1,2.5,\"x/y\",null,true]}");
	assert_int_equal(len, strlen(s));
	json_object_put(o);
	o = p("42");
	assert_non_null(o);
	json_object_put(o);
	/* The extremes that fit are kept exactly. */
	o = p("[9223372036854775807,-9223372036854775807,"
	    "18446744073709551614]");
	assert_non_null(o);
	assert_string_equal(wjson_str(o, &len), "[9223372036854775807,"
	    "-9223372036854775807,18446744073709551614]");
	json_object_put(o);
	o = p("{\"k\":\"caf\xc3\xa9\"}");
	assert_non_null(o);
	assert_string_equal(wjson_get_string(o, "k"), "caf\xc3\xa9");
	assert_null(wjson_get_string(o, "missing"));
	json_object_put(o);
}

/* json-c 0.16 still accepts 'single-quoted' strings in strict mode; that
 * is harmless here because whatever is accepted is re-serialized as
 * standard JSON before it goes anywhere. */
static void
test_rejects(void **state)
{
	static const char *const bad[] = {
		"", "   ", "{", "{\"a\":1} x", "{\"a\":1}{}",
		"{\"a\":1,}", "// c\n{}", "{\"a\": NaN}", "{\"a\": Infinity}",
		"[-Infinity]", "{\"a\":\"\xff\"}", "{\"a\":\"\xc3\"}", "tru",
		"{\"a\":01}",
		/* beyond 64 bits: json-c would saturate them */
		"{\"n\":123456789012345678901234567890}",
		"[-99999999999999999999]", "18446744073709551616",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = p(bad[i]);

		if (o != NULL)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void
test_depth(void **state)
{
	char deep[200];
	struct json_object *o;

	(void)state;
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_null(wjson_parse(deep, 200, 32));
	o = wjson_parse(deep + 90, 20, 32);
	assert_non_null(o);
	json_object_put(o);
}

static void
test_length_bounded(void **state)
{
	struct json_object *o;

	(void)state;
	/* Only the first len bytes count. */
	o = wjson_parse("{\"a\":1}garbage", 7, 8);
	assert_non_null(o);
	json_object_put(o);
	/* An embedded NUL inside the window is not whitespace. */
	assert_null(wjson_parse("{}\0{}", 5, 8));
}

static void
test_config(void **state)
{
	const char *c = "// head\n{ /* a */ \"x\": 1, // tail\n \"y\": [2] }\n";
	char err[128];
	struct json_object *o;

	(void)state;
	o = wjson_parse_config(c, strlen(c), err, sizeof(err));
	assert_non_null(o);
	json_object_put(o);
	c = "{\n\"x\": 1,\n\"y\": }\n";
	assert_null(wjson_parse_config(c, strlen(c), err, sizeof(err)));
	assert_non_null(strstr(err, "line 3"));
	c = "{} {}";
	assert_null(wjson_parse_config(c, strlen(c), err, sizeof(err)));
	assert_non_null(strstr(err, "trailing"));
}

static size_t
c(const char *s)
{
	return wjson_cost(s, strlen(s));
}

/* The estimate token by token (figures in wjson.c). */
static void
test_cost_tokens(void **state)
{
	(void)state;
	assert_int_equal(c(""), 0);
	assert_int_equal(c("0"), 112);
	assert_int_equal(c("{}"), 800);
	assert_int_equal(c("[]"), 288);
	assert_int_equal(c(" [ true , null ] "), 288 + 2 * 112);
	assert_int_equal(c("[0,-1.5e3]"), 288 + 2 * 112);
	/* key "ab" + ':' + value "c\"d" (an escape counts once) */
	assert_int_equal(c("{\"ab\":\"c\\\"d\"}"), 800 + 98 + 64 + 99);
	/* brackets and commas inside strings are bytes, not tokens */
	assert_int_equal(c("\"{[,:]}\""), 96 + 6);
	/* NaN is built by json-c before wjson_parse refuses it */
	assert_int_equal(c("[NaN]"), 288 + 112);
	/* an unterminated string or a trailing backslash stays in bounds */
	assert_int_equal(c("\"abc"), 96 + 3);
	assert_int_equal(wjson_cost("\"a\\", 3), 96 + 2);
}

/* Builds "[" ITEM "," ITEM ... "]" of about size bytes. */
static char *
repeat(const char *item, size_t size, size_t *len)
{
	size_t n = strlen(item), l = 0;
	char *b = malloc(size + n + 3);

	assert_non_null(b);
	b[l++] = '[';
	while (l + n + 2 < size) {
		if (l > 1)
			b[l++] = ',';
		memcpy(b + l, item, n);
		l += n;
	}
	b[l++] = ']';
	b[l] = '\0';
	*len = l;
	return b;
}

/* The estimate never undercounts what json-c really allocates for the
 * shapes that cost it most per byte (json-c's own allocations, as glibc
 * counts them; under a sanitizer's allocator there is nothing to count
 * and this only checks that parsing works). */
static void
test_cost_bounds_jsonc(void **state)
{
	static const char *const items[] = { "0", "1.5", "true", "\"\"",
	    "\"abcdefgh\"", "{}", "[]", "[0]", "[[[[[[[[[[]]]]]]]]]]",
	    "{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}", "{\"a\":0}",
	    "{\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,"
	    "\"h\":0,\"i\":0,\"j\":0,\"k\":0,\"l\":0}",
	    "{\"worker_id\":\"w\",\"status\":\"s\",\"worker_ref\":"
	    "{\"worker_id\":\"w\"}}", "\"\\u00e9\\n\"" };

	(void)state;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		size_t len, est, used;
		char *b = repeat(items[i], 256 * 1024, &len);
		struct mallinfo2 m0, m1;
		struct json_object *o;

		m0 = mallinfo2();
		o = wjson_parse(b, len, WJSON_MAX_DEPTH);
		m1 = mallinfo2();
		assert_non_null(o);
		used = m1.uordblks + m1.hblkhd > m0.uordblks + m0.hblkhd ?
		    m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd : 0;
		est = wjson_cost(b, len);
		if (used > est)
			fail_msg("%s: json-c took %zu bytes, estimate %zu",
			    items[i], used, est);
		json_object_put(o);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_cost_tokens),
		cmocka_unit_test(test_cost_bounds_jsonc),
	};

	return cmocka_run_group_tests_name("wjson", tests, NULL, NULL);
}
