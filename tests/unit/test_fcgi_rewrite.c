/*
 * Unit tests of wrg.fcgi's response rewriting: runtime_id and
 * worker_ref.runtime_id become the registry id, every other field is kept,
 * and anything not shaped as runtime-api.md says is refused (NULL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rewrite.h"
#include "wjson.h"

static struct json_object *
parse(const char *s)
{
	struct json_object *o = wjson_parse(s, strlen(s), 64);

	assert_non_null(o);
	return o;
}

static const char *
str(struct json_object *o)
{
	return wjson_str(o, NULL);
}

static void
test_worker(void **state)
{
	struct json_object *root = parse("{\"worker\": {\"worker_ref\":"
	    " {\"runtime_id\": \"own\", \"worker_id\": \"w\"},"
	    " \"worker_id\": \"w\", \"status\": \"running\","
	    " \"mount_refs\": [{\"name\": \"m\"}], \"last_event_id\": 3}}");
	struct json_object *w;

	(void)state;
	w = rewrite_worker_detail(root, "reg");
	assert_non_null(w);
	json_object_put(root);
	/* runtime_id added even when the runtime left it out. */
	assert_string_equal(str(w), "{\"worker_ref\":{\"runtime_id\":\"reg\","
	    "\"worker_id\":\"w\"},\"worker_id\":\"w\",\"status\":\"running\","
	    "\"mount_refs\":[{\"name\":\"m\"}],\"last_event_id\":3,"
	    "\"runtime_id\":\"reg\"}");
	json_object_put(w);
}

static void
test_bad_shapes(void **state)
{
	static const char *const bad_detail[] = {
	    "{}", "{\"worker\": null}", "{\"worker\": []}",
	    "{\"worker\": {\"worker_id\": \"w\", \"status\": \"x\"}}",
	    "{\"worker\": {\"worker_id\": \"w\", \"status\": \"x\","
	    " \"worker_ref\": \"w\"}}",
	    "{\"worker\": {\"worker_id\": \"\", \"status\": \"x\","
	    " \"worker_ref\": {\"worker_id\": \"w\"}}}",
	    "{\"worker\": {\"worker_id\": \"w\", \"status\": 1,"
	    " \"worker_ref\": {\"worker_id\": \"w\"}}}",
	    "{\"worker\": {\"worker_id\": \"w\", \"status\": \"x\","
	    " \"worker_ref\": {\"worker_id\": 5}}}",
	};
	static const char *const bad_list[] = { "{}", "{\"workers\": {}}",
	    "{\"workers\": [1]}", "{\"workers\": [{}]}", "[]" };
	static const char *const bad_ack[] = { "{}", "{\"ack\": {}}",
	    "{\"ack\": {\"status\": \"s\"}}",
	    "{\"ack\": {\"worker_ref\": {\"worker_id\": \"w\"}}}" };
	static const char *const bad_tr[] = { "{}", "{\"transcript\": {}}",
	    "{\"transcript\": {\"worker_ref\": {\"worker_id\": \"w\"}}}",
	    "{\"transcript\": {\"worker_ref\": {\"worker_id\": \"w\"},"
	    " \"items\": [1]}}",
	    "{\"transcript\": {\"worker_ref\": {\"worker_id\": \"w\"},"
	    " \"items\": [{\"worker_ref\": 1}]}}" };
	long max;
	const char *dn;

	(void)state;
#define NONE(fn, arr) do { \
	for (size_t i = 0; i < sizeof(arr) / sizeof(arr[0]); i++) { \
		struct json_object *r = parse(arr[i]); \
		struct json_object *o = fn(r, "reg"); \
		if (o != NULL) \
			fail_msg("%s accepted %s", #fn, arr[i]); \
		json_object_put(r); \
	} \
} while (0)
	NONE(rewrite_worker_detail, bad_detail);
	NONE(rewrite_worker_list, bad_list);
	NONE(rewrite_ack, bad_ack);
	NONE(rewrite_transcript, bad_tr);
	{
		struct json_object *r = parse("{\"runtime\": {\"x\": 1}}");

		assert_null(rewrite_runtime_summary(r, &max, &dn));
		json_object_put(r);
	}
}

static void
test_list_ack_transcript(void **state)
{
	struct json_object *r, *o;

	(void)state;
	r = parse("{\"workers\": [{\"worker_ref\": {\"runtime_id\": \"x\","
	    " \"worker_id\": \"a\"}, \"runtime_id\": \"x\", \"worker_id\":"
	    " \"a\", \"status\": \"running\", \"intent\": {\"kind\":"
	    " \"assistant\"}}], \"extra\": 1}");
	o = rewrite_worker_list(r, "reg");
	json_object_put(r);
	assert_string_equal(str(o), "[{\"worker_ref\":{\"runtime_id\":\"reg\","
	    "\"worker_id\":\"a\"},\"runtime_id\":\"reg\",\"worker_id\":\"a\","
	    "\"status\":\"running\",\"intent\":{\"kind\":\"assistant\"}}]");
	json_object_put(o);

	r = parse("{\"ack\": {\"worker_ref\": {\"runtime_id\": \"x\","
	    " \"worker_id\": \"a\"}, \"status\": \"stopped\","
	    " \"event_id\": 10}}");
	o = rewrite_ack(r, "reg");
	json_object_put(r);
	assert_string_equal(str(o), "{\"worker_ref\":{\"runtime_id\":\"reg\","
	    "\"worker_id\":\"a\"},\"status\":\"stopped\",\"event_id\":10}");
	json_object_put(o);

	r = parse("{\"transcript\": {\"worker_ref\": {\"runtime_id\": \"x\","
	    " \"worker_id\": \"a\"}, \"start\": 0, \"items\": [{\"sequence\":"
	    " 1, \"worker_ref\": {\"runtime_id\": \"x\", \"worker_id\": \"a\"},"
	    " \"role\": \"user\", \"content\": \"hi\"}], \"next_start\": null}}");
	o = rewrite_transcript(r, "reg");
	json_object_put(r);
	assert_string_equal(str(o), "{\"worker_ref\":{\"runtime_id\":\"reg\","
	    "\"worker_id\":\"a\"},\"start\":0,\"items\":[{\"sequence\":1,"
	    "\"worker_ref\":{\"runtime_id\":\"reg\",\"worker_id\":\"a\"},"
	    "\"role\":\"user\",\"content\":\"hi\"}],\"next_start\":null}");
	json_object_put(o);
}

static void
test_runtime_summary(void **state)
{
	struct json_object *r, *o;
	long max;
	const char *dn;

	(void)state;
	r = parse("{\"runtime\": {\"runtime_id\": \"own\", \"display_name\":"
	    " \"D\", \"backend\": \"fs_store\", \"status\": \"running\","
	    " \"worker_count\": 1, \"limits\": {"
	    "\"max_transcript_projection_items\": 64}}}");
	o = rewrite_runtime_summary(r, &max, &dn);
	assert_string_equal(str(o), "{\"status\":\"running\","
	    "\"worker_count\":1,\"backend\":\"fs_store\",\"limits\":"
	    "{\"max_transcript_projection_items\":64}}");
	assert_int_equal(max, 64);
	assert_string_equal(dn, "D");
	json_object_put(o);
	json_object_put(r);
	/* Runtime free text never survives: only integers and words. */
	r = parse("{\"runtime\": {\"status\": \"running\", \"backend\":"
	    " \"see http://10.9.8.7:4444/admin\", \"worker_count\": \"x\","
	    " \"limits\": {\"internal_url\": \"http://10.9.8.7:4444\","
	    " \"Bad Key\": 1, \"max_event_batch_items\": 9}}}");
	o = rewrite_runtime_summary(r, &max, &dn);
	assert_string_equal(str(o), "{\"status\":\"running\",\"limits\":"
	    "{\"max_event_batch_items\":9}}");
	json_object_put(o);
	json_object_put(r);
	r = parse("{\"runtime\": {\"status\": \"at http://10.9.8.7\"}}");
	assert_null(rewrite_runtime_summary(r, &max, &dn));
	json_object_put(r);
	r = parse("{\"runtime\": {\"status\": \"stopped\","
	    " \"display_name\": null}}");
	o = rewrite_runtime_summary(r, &max, &dn);
	assert_non_null(o);
	assert_int_equal(max, -1);
	assert_null(dn);
	json_object_put(o);
	json_object_put(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker),
		cmocka_unit_test(test_bad_shapes),
		cmocka_unit_test(test_list_ack_transcript),
		cmocka_unit_test(test_runtime_summary),
	};

	return cmocka_run_group_tests_name("fcgi_rewrite", tests, NULL, NULL);
}
