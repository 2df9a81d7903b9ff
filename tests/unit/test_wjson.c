/*
 * Unit tests for lib/wjson: the strict JSON reader every network-facing
 * part uses, and the config reader that allows comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests_name("wjson", tests, NULL, NULL);
}
