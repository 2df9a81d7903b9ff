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

typedef struct json_object *rewrite_fn(struct json_object *root,
    const char *registry_id);

#define REFUSED(what, fn, in) { (what), (fn), (in), NULL }
#define BAD_DETAIL(in) REFUSED("detail", rewrite_worker_detail, in)
#define BAD_LIST(in) REFUSED("list", rewrite_worker_list, in)
#define BAD_ACK(in) REFUSED("ack", rewrite_ack, in)
#define BAD_TRANSCRIPT(in) REFUSED("transcript", rewrite_transcript, in)

/* One runtime answer, the rewrite for its route, and the rewritten JSON
 * (with registry id "reg"), or NULL when it must be refused. */
static const struct {
	const char *what;
	rewrite_fn *fn;
	const char *in, *want;
} cases[] = {
	/* runtime_id added even when the runtime left it out */
	{ "detail", rewrite_worker_detail, "{\"worker\": {\"worker_ref\":"
	    " {\"runtime_id\": \"own\", \"worker_id\": \"w\"},"
	    " \"worker_id\": \"w\", \"status\": \"running\","
	    " \"mount_refs\": [{\"name\": \"m\"}], \"last_event_id\": 3}}",
	    "{\"worker_ref\":{\"runtime_id\":\"reg\","
	    "\"worker_id\":\"w\"},\"worker_id\":\"w\",\"status\":\"running\","
	    "\"mount_refs\":[{\"name\":\"m\"}],\"last_event_id\":3,"
	    "\"runtime_id\":\"reg\"}" },
	{ "list", rewrite_worker_list, "{\"workers\": [{\"worker_ref\":"
	    " {\"runtime_id\": \"x\", \"worker_id\": \"a\"}, \"runtime_id\":"
	    " \"x\", \"worker_id\": \"a\", \"status\": \"running\","
	    " \"intent\": {\"kind\": \"assistant\"}}], \"extra\": 1}",
	    "[{\"worker_ref\":{\"runtime_id\":\"reg\","
	    "\"worker_id\":\"a\"},\"runtime_id\":\"reg\",\"worker_id\":\"a\","
	    "\"status\":\"running\",\"intent\":{\"kind\":\"assistant\"}}]" },
	{ "ack", rewrite_ack, "{\"ack\": {\"worker_ref\": {\"runtime_id\":"
	    " \"x\", \"worker_id\": \"a\"}, \"status\": \"stopped\","
	    " \"event_id\": 10}}",
	    "{\"worker_ref\":{\"runtime_id\":\"reg\","
	    "\"worker_id\":\"a\"},\"status\":\"stopped\",\"event_id\":10}" },
	{ "transcript", rewrite_transcript, "{\"transcript\": {\"worker_ref\":"
	    " {\"runtime_id\": \"x\", \"worker_id\": \"a\"}, \"start\": 0,"
	    " \"items\": [{\"sequence\": 1, \"worker_ref\": {\"runtime_id\":"
	    " \"x\", \"worker_id\": \"a\"}, \"role\": \"user\", \"content\":"
	    " \"hi\"}], \"next_start\": null}}",
	    "{\"worker_ref\":{\"runtime_id\":\"reg\","
	    "\"worker_id\":\"a\"},\"start\":0,\"items\":[{\"sequence\":1,"
	    "\"worker_ref\":{\"runtime_id\":\"reg\",\"worker_id\":\"a\"},"
	    "\"role\":\"user\",\"content\":\"hi\"}],\"next_start\":null}" },

	/* refused: not shaped as runtime-api.md says */
	BAD_DETAIL("{}"),
	BAD_DETAIL("{\"worker\": null}"),
	BAD_DETAIL("{\"worker\": []}"),
	BAD_DETAIL("{\"worker\": {\"worker_id\": \"w\", \"status\": \"x\"}}"),
	BAD_DETAIL("{\"worker\": {\"worker_id\": \"w\", \"status\": \"x\","
	    " \"worker_ref\": \"w\"}}"),
	BAD_DETAIL("{\"worker\": {\"worker_id\": \"\", \"status\": \"x\","
	    " \"worker_ref\": {\"worker_id\": \"w\"}}}"),
	BAD_DETAIL("{\"worker\": {\"worker_id\": \"w\", \"status\": 1,"
	    " \"worker_ref\": {\"worker_id\": \"w\"}}}"),
	BAD_DETAIL("{\"worker\": {\"worker_id\": \"w\", \"status\": \"x\","
	    " \"worker_ref\": {\"worker_id\": 5}}}"),
	BAD_LIST("{}"),
	BAD_LIST("{\"workers\": {}}"),
	BAD_LIST("{\"workers\": [1]}"),
	BAD_LIST("{\"workers\": [{}]}"),
	BAD_LIST("[]"),
	BAD_ACK("{}"),
	BAD_ACK("{\"ack\": {}}"),
	BAD_ACK("{\"ack\": {\"status\": \"s\"}}"),
	BAD_ACK("{\"ack\": {\"worker_ref\": {\"worker_id\": \"w\"}}}"),
	BAD_ACK("{\"ack\": {\"worker_ref\": {\"worker_id\": \"\"},"
	    " \"status\": \"s\"}}"),
	BAD_TRANSCRIPT("{}"),
	BAD_TRANSCRIPT("{\"transcript\": {}}"),
	BAD_TRANSCRIPT("{\"transcript\": {\"worker_ref\": {\"worker_id\":"
	    " \"w\"}}}"),
	BAD_TRANSCRIPT("{\"transcript\": {\"worker_ref\": {\"worker_id\":"
	    " \"w\"}, \"items\": [1]}}"),
	BAD_TRANSCRIPT("{\"transcript\": {\"worker_ref\": {\"worker_id\":"
	    " \"w\"}, \"items\": [{\"worker_ref\": 1}]}}"),
};

static void
test_rewrites(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *r = parse(cases[i].in);
		struct json_object *o = cases[i].fn(r, "reg");
		const char *got = o != NULL ? str(o) : NULL;

		json_object_put(r);
		if (cases[i].want == NULL && got != NULL)
			fail_msg("%s accepted %s", cases[i].what, cases[i].in);
		if (cases[i].want != NULL && (got == NULL ||
		    strcmp(got, cases[i].want) != 0))
			fail_msg("%s: %s\n  gave %s\n  want %s", cases[i].what,
			    cases[i].in, got ? got : "NULL", cases[i].want);
		json_object_put(o);
	}
}

static void
test_bad_runtime_summary(void **state)
{
	struct json_object *r = parse("{\"runtime\": {\"x\": 1}}");
	long max;
	const char *dn;

	(void)state;
	assert_null(rewrite_runtime_summary(r, &max, &dn));
	json_object_put(r);
}

/* rewrite_runtime_summary of the JSON text in must serialize as want;
 * returns the parsed input (owned by the caller: *dn points into it). */
static struct json_object *
summary_is(const char *in, const char *want, long *max, const char **dn)
{
	struct json_object *r = parse(in), *o;

	o = rewrite_runtime_summary(r, max, dn);
	assert_string_equal(str(o), want);
	json_object_put(o);
	return r;
}

static void
test_runtime_summary(void **state)
{
	struct json_object *r, *o;
	long max;
	const char *dn;

	(void)state;
	r = summary_is("{\"runtime\": {\"runtime_id\": \"own\", "
	    "\"display_name\": \"D\", \"backend\": \"fs_store\", \"status\":"
	    " \"running\", \"worker_count\": 1, \"limits\": {"
	    "\"max_transcript_projection_items\": 64}}}",
	    "{\"status\":\"running\","
	    "\"worker_count\":1,\"backend\":\"fs_store\",\"limits\":"
	    "{\"max_transcript_projection_items\":64}}", &max, &dn);
	assert_int_equal(max, 64);
	assert_string_equal(dn, "D");
	json_object_put(r);
	/* Runtime free text never survives: only integers and words. */
	json_object_put(summary_is("{\"runtime\": {\"status\": \"running\", "
	    "\"backend\": \"see http://10.9.8.7:4444/admin\", "
	    "\"worker_count\": \"x\", \"limits\": {\"internal_url\": "
	    "\"http://10.9.8.7:4444\", \"Bad Key\": 1, "
	    "\"max_event_batch_items\": 9}}}",
	    "{\"status\":\"running\",\"limits\":"
	    "{\"max_event_batch_items\":9}}", &max, &dn));
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
		cmocka_unit_test(test_rewrites),
		cmocka_unit_test(test_bad_runtime_summary),
		cmocka_unit_test(test_runtime_summary),
	};

	return cmocka_run_group_tests_name("fcgi_rewrite", tests, NULL, NULL);
}
