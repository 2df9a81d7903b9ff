/*
 * Unit tests for wsproxy/frame.c: runtime frame classification, event
 * re-wrapping (registry runtime_id in, payload unchanged), the runtime ->
 * backend diagnostic mapping and the fixed diagnostic table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "frame.h"
#include "wjson.h"

static const char *
str_at(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, a, &x))
		return NULL;
	return b ? wjson_get_string(x, b) : json_object_get_string(x);
}

static void
test_event_rewrapped(void **state)
{
	const char *in = "{\"kind\":\"event\",\"envelope\":{\"cursor\":"
	    "\"wo_000000000000002a\",\"event_id\":\"wo_000000000000002a\","
	    "\"worker_id\":\"worker-1\",\"runtime_id\":\"self-name\","
	    "\"payload\":{\"event\":\"text_delta\",\"data\":{\"text\":"
	    "\"a/b \\u00e9\",\"n\":[1,2.5,true,null]}}}}";
	struct frame_in f;
	struct json_object *o, *env, *pl, *want;

	(void)state;
	assert_int_equal(frame_parse(in, strlen(in), "build-farm", &f),
	    FRAME_OK);
	assert_int_equal(f.kind, FRAME_EVENT);
	assert_false(f.snapshot);
	assert_string_equal(f.cursor, "wo_000000000000002a");
	assert_string_equal(f.worker_id, "worker-1");
	assert_int_equal(strlen(f.out), f.out_len);
	o = wjson_parse(f.out, f.out_len, 64);
	assert_non_null(o);
	assert_string_equal(wjson_get_string(o, "kind"), "event");
	assert_true(json_object_object_get_ex(o, "envelope", &env));
	assert_string_equal(wjson_get_string(env, "runtime_id"),
	    "build-farm");
	assert_string_equal(wjson_get_string(env, "worker_id"), "worker-1");
	assert_string_equal(wjson_get_string(env, "event_id"),
	    "wo_000000000000002a");
	assert_string_equal(str_at(o, "envelope", "cursor"),
	    "wo_000000000000002a");
	assert_true(json_object_object_get_ex(env, "payload", &pl));
	{
		const char *w = "{\"event\":\"text_delta\",\"data\":"
		    "{\"text\":\"a/b \\u00e9\",\"n\":[1,2.5,true,null]}}";

		want = wjson_parse(w, strlen(w), 64);
	}
	assert_non_null(want);
	assert_true(json_object_equal(pl, want));
	/* The runtime's own name for itself never reaches the browser. */
	assert_null(strstr(f.out, "self-name"));
	json_object_put(want);
	json_object_put(o);
	frame_in_clear(&f);
}

static void
test_snapshot_detected(void **state)
{
	const char *a = "{\"kind\":\"event\",\"envelope\":{\"cursor\":\"wo_1\","
	    "\"event_id\":\"snapshot:wo_1\",\"worker_id\":\"w\",\"payload\":"
	    "{\"event\":\"snapshot\",\"data\":{}}}}";
	const char *b = "{\"kind\":\"event\",\"envelope\":{\"cursor\":\"wo_2\","
	    "\"event_id\":\"wo_2\",\"worker_id\":\"w\",\"payload\":"
	    "{\"event\":\"tick\",\"data\":{\"n\":1}}}}";
	struct frame_in f;

	(void)state;
	assert_int_equal(frame_parse(a, strlen(a), "r", &f), FRAME_OK);
	assert_true(f.snapshot);
	assert_string_equal(f.cursor, "wo_1");
	frame_in_clear(&f);
	assert_int_equal(frame_parse(b, strlen(b), "r", &f), FRAME_OK);
	assert_false(f.snapshot);
	frame_in_clear(&f);
}

static void
test_bad_frames(void **state)
{
	static const char *const bad_shape[] = {
		"{}",
		"{\"kind\":\"other\"}",
		"{\"kind\":\"event\"}",
		"{\"kind\":\"event\",\"envelope\":{\"event_id\":\"e\","
		    "\"worker_id\":\"w\",\"payload\":{}}}",
		"{\"kind\":\"event\",\"envelope\":{\"cursor\":\"c\","
		    "\"event_id\":\"e\",\"worker_id\":\"w\"}}",
		"{\"kind\":\"event\",\"envelope\":{\"cursor\":\"\","
		    "\"event_id\":\"e\",\"worker_id\":\"w\",\"payload\":{}}}",
		/* Cursors a browser could not send back as ?cursor=. */
		"{\"kind\":\"event\",\"envelope\":{\"cursor\":\"a b\","
		    "\"event_id\":\"e\",\"worker_id\":\"w\",\"payload\":{}}}",
		"{\"kind\":\"event\",\"envelope\":{\"cursor\":\"a/c?d#e&f\","
		    "\"event_id\":\"e\",\"worker_id\":\"w\",\"payload\":{}}}",
		"{\"kind\":\"event\",\"envelope\":{\"cursor\":\"\\u00e9\","
		    "\"event_id\":\"e\",\"worker_id\":\"w\",\"payload\":{}}}",
		"{\"kind\":\"diagnostic\",\"diagnostic\":{\"message\":\"x\"}}",
		"{\"kind\":\"diagnostic\",\"diagnostic\":\"x\"}",
	};
	static const char *const bad_json[] = {
		"", "[]", "not json", "{\"kind\":\"event\"} trailing",
		"{\"kind\":\"event\" /* c */}", "\"str\"",
	};
	struct frame_in f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_shape) / sizeof(bad_shape[0]); i++) {
		assert_int_equal(frame_parse(bad_shape[i],
		    strlen(bad_shape[i]), "r", &f), FRAME_ERR_SHAPE);
		assert_null(f.out);
	}
	for (i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		assert_int_equal(frame_parse(bad_json[i],
		    strlen(bad_json[i]), "r", &f), FRAME_ERR_JSON);
		assert_null(f.out);
	}
	/* An over-long cursor is refused rather than cut. */
	{
		char buf[600];

		snprintf(buf, sizeof(buf), "{\"kind\":\"event\",\"envelope\":"
		    "{\"cursor\":\"%0200d\",\"event_id\":\"e\",\"worker_id\":"
		    "\"w\",\"payload\":{}}}", 1);
		assert_int_equal(frame_parse(buf, strlen(buf), "r", &f),
		    FRAME_ERR_SHAPE);
	}
}

/* Feeds the runtime diagnostic frame with code through frame_parse and
 * frame_map_runtime_diag, and checks what the browser gets: act, the
 * backend code (by its spelling, not the enum), and the code kept for
 * the operator log. A mismatch names the runtime code. */
static void
check_runtime_diag(const char *code, enum frame_action act,
    const char *backend_code, const char *logged)
{
	char msg[256];
	enum frame_diag d = FRAME_DIAG_COUNT;
	struct frame_in f;

	snprintf(msg, sizeof(msg), "{\"kind\":\"diagnostic\",\"diagnostic\":"
	    "{\"code\":\"%s\",\"message\":\"no worker in /var/lib/secret "
	    "at 10.0.0.7:9000\"}}", code);
	if (frame_parse(msg, strlen(msg), "r", &f) != FRAME_OK ||
	    f.kind != FRAME_DIAGNOSTIC || f.out != NULL)
		fail_msg("%s: not parsed as a diagnostic", code);
	if (f.action != act || strcmp(frame_diag_code(f.diag),
	    backend_code) != 0)
		fail_msg("%s: got action %d, %s; want %d, %s", code,
		    (int)f.action, frame_diag_code(f.diag), (int)act,
		    backend_code);
	if (strcmp(f.runtime_code, logged) != 0)
		fail_msg("%s: logged as %s, want %s", code, f.runtime_code,
		    logged);
	if (frame_map_runtime_diag(code, &d) != act || d != f.diag)
		fail_msg("%s: frame_map_runtime_diag disagrees", code);
	frame_in_clear(&f);
}

/* Every diagnostic code of the runtime contract (runtime-api.md), grouped
 * by what the proxy does with it. */
static void
test_runtime_diag_mapping(void **state)
{
	/* Final: the browser gets the backend diagnostic, then a close. A
	 * runtime.observation_only means the runtime believes we sent a
	 * data frame (we never do): the stream cannot be trusted. */
	static const char *const closing[][2] = {
		{ "runtime.cursor_malformed", "backend.cursor_malformed" },
		{ "runtime.worker_not_found", "backend.worker_not_found" },
		{ "runtime.observation_only", "backend.runtime_unavailable" },
	};
	/* Transient: reconnect from the same cursor. cursor_expired is the
	 * runtime falling behind us; our cursor is still good. */
	static const char *const transient[] = {
		"runtime.cursor_expired", "runtime.upstream_closed",
		"runtime.unavailable", "runtime.websocket_error",
		"runtime.serialize_failed",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(closing) / sizeof(closing[0]); i++)
		check_runtime_diag(closing[i][0], FRAME_ACT_CLOSE,
		    closing[i][1], closing[i][0]);
	for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
		check_runtime_diag(transient[i], FRAME_ACT_RECONNECT,
		    "backend.upstream_reconnecting", transient[i]);
	/* The cursor is older than the runtime keeps: start over. */
	check_runtime_diag("runtime.cursor_unknown_or_expired",
	    FRAME_ACT_RESYNC, "backend.resynced",
	    "runtime.cursor_unknown_or_expired");
	/* A code outside the contract is transient, and never copied to
	 * the log (a hostile runtime could put the token there). */
	check_runtime_diag("something.new", FRAME_ACT_RECONNECT,
	    "backend.upstream_reconnecting", "unknown");
	check_runtime_diag("secret-token-123", FRAME_ACT_RECONNECT,
	    "backend.upstream_reconnecting", "unknown");
}

static void
test_diag_table(void **state)
{
	static const char *const codes[FRAME_DIAG_COUNT] = {
		"backend.runtime_not_found", "backend.worker_not_found",
		"backend.runtime_unavailable", "backend.cursor_malformed",
		"backend.cursor_unknown_or_expired",
		"backend.upstream_reconnecting", "backend.resynced",
		"backend.observation_only", "backend.slow_consumer",
		"backend.shutting_down",
	};
	struct json_object *o, *d;
	size_t len;
	char *s;
	int i;

	(void)state;
	for (i = 0; i < FRAME_DIAG_COUNT; i++) {
		s = frame_diag_json((enum frame_diag)i, &len);
		assert_int_equal(strlen(s), len);
		o = wjson_parse(s, len, 8);
		assert_non_null(o);
		assert_string_equal(wjson_get_string(o, "kind"),
		    "diagnostic");
		assert_true(json_object_object_get_ex(o, "diagnostic", &d));
		assert_string_equal(wjson_get_string(d, "code"), codes[i]);
		assert_string_equal(wjson_get_string(d, "message"),
		    frame_diag_message((enum frame_diag)i));
		assert_true(strlen(frame_diag_message((enum frame_diag)i)) > 10);
		json_object_put(o);
		free(s);
	}
}

static void
test_cursor_valid(void **state)
{
	char longc[200];

	(void)state;
	assert_true(frame_cursor_valid("wo_000000000000002a"));
	assert_true(frame_cursor_valid("snapshot:wo_1"));
	assert_false(frame_cursor_valid(""));
	assert_false(frame_cursor_valid(NULL));
	assert_false(frame_cursor_valid("wo 1"));
	assert_false(frame_cursor_valid("wo/1"));
	assert_false(frame_cursor_valid("wo%2f1"));
	assert_false(frame_cursor_valid("a&b=c"));
	assert_false(frame_cursor_valid("\xc3\xa9"));
	memset(longc, 'a', FRAME_CURSOR_MAX);
	longc[FRAME_CURSOR_MAX] = '\0';
	assert_true(frame_cursor_valid(longc));
	longc[FRAME_CURSOR_MAX] = 'a';
	longc[FRAME_CURSOR_MAX + 1] = '\0';
	assert_false(frame_cursor_valid(longc));
}

/* The order of cursors in the contract's form, and nothing else: a
 * cursor in any other spelling must not be shared (feed.h). */
static void
test_cursor_seq(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_true(frame_cursor_seq("wo_000000000000002a", &v));
	assert_true(v == 42);
	assert_true(frame_cursor_seq("wo_ffffffffffffffff", &v));
	assert_true(v == UINT64_MAX);
	assert_true(frame_cursor_seq("wo_0000000000000000", &v));
	assert_true(v == 0);
	assert_false(frame_cursor_seq("wo_000000000000002A", &v));
	assert_false(frame_cursor_seq("wo_00000000000002a", &v));
	assert_false(frame_cursor_seq("wo_0000000000000002a", &v));
	assert_false(frame_cursor_seq("xo_000000000000002a", &v));
	assert_false(frame_cursor_seq("wo_00000000000000-1", &v));
	assert_false(frame_cursor_seq("snapshot:wo_000000000000002a", &v));
	assert_false(frame_cursor_seq("", &v));
	assert_false(frame_cursor_seq(NULL, &v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_rewrapped),
		cmocka_unit_test(test_snapshot_detected),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_runtime_diag_mapping),
		cmocka_unit_test(test_diag_table),
		cmocka_unit_test(test_cursor_valid),
		cmocka_unit_test(test_cursor_seq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
