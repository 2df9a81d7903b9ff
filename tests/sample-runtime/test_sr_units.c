/*
 * test_sr_units — cmocka unit tests of wrg-sample-runtime's socket-free
 * parts: api_handle() (the REST handler as request → response) and the
 * store (sequence, retention ring, listener, event-log replay including a
 * torn tail and a corrupt middle). The wire behaviour is covered by
 * tests/integration/sample_runtime_test.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api.h"
#include "store.h"
#include "wjson.h"
#include "xalloc.h"

struct fx {
	struct store *st;
	struct api_ctx ctx;
	struct api_response resp;
	struct json_object *json;
	int drops;
};

static int
fake_drop(void *arg)
{
	struct fx *f = arg;

	f->drops++;
	return 7;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char err[256];

	assert_int_equal(store_open(&f->st, NULL, 16, err, sizeof(err)),
	    STORE_OK);
	f->ctx.st = f->st;
	f->ctx.token = "tok";
	f->ctx.runtime_id = "rt-u";
	f->ctx.max_transcript = 3;
	f->ctx.drop_ws = fake_drop;
	f->ctx.drop_ws_arg = f;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	api_response_clear(&f->resp);
	json_object_put(f->json);
	store_free(f->st);
	free(f);
	return 0;
}

/* Runs one request with the right token unless auth is given. */
static int
call(struct fx *f, const char *method, const char *path, const char *query,
    const char *body, const char *auth)
{
	struct api_request req = {
		.method = method, .path = path, .query = query ? query : "",
		.auth = auth ? auth : "Bearer tok", .body = body,
		.body_len = body ? strlen(body) : 0,
	};

	api_response_clear(&f->resp);
	json_object_put(f->json);
	api_handle(&f->ctx, &req, &f->resp);
	f->json = f->resp.body ? wjson_parse(f->resp.body, f->resp.body_len,
	    WJSON_MAX_DEPTH) : NULL;
	return f->resp.status;
}

static const char *
str_at(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b != NULL && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static const char *
err_code(struct fx *f)
{
	return str_at(json_object_object_get(f->json, "error"), "code", NULL);
}

#define CREATE "{\"intent\":{\"kind\":\"assistant\"}," \
	"\"profile\":{\"kind\":\"runtime_default\"}}"

static void
test_auth_and_router(void **state)
{
	struct fx *f = *state;

	assert_int_equal(call(f, "GET", "/v1/runtime", NULL, NULL, "x"), 401);
	assert_string_equal(err_code(f), "unauthorized");
	assert_int_equal(call(f, "GET", "/v1/runtime", NULL, NULL,
	    "Bearer tok2"), 401);
	assert_int_equal(call(f, "GET", "/v1/runtime", NULL, NULL,
	    "bearer tok"), 200);
	assert_int_equal(call(f, "GET", "/zzz", NULL, NULL, NULL), 404);
	assert_null(f->resp.body);
	assert_int_equal(call(f, "DELETE", "/v1/workers", NULL, NULL, NULL),
	    405);
	assert_null(f->resp.body);
	assert_int_equal(call(f, "GET", "/v1/workers/", NULL, NULL, NULL),
	    400);
	assert_string_equal(err_code(f), "invalid_worker_id");
	assert_int_equal(call(f, "POST", "/v1/workers//stop", NULL, NULL,
	    NULL), 400);
	assert_string_equal(err_code(f), "invalid_worker_id");
}

static void
test_worker_flow(void **state)
{
	struct fx *f = *state;
	struct json_object *ack;

	assert_int_equal(call(f, "POST", "/v1/workers", NULL, CREATE, NULL),
	    200);
	assert_string_equal(str_at(json_object_object_get(f->json, "worker"),
	    "worker_id", NULL), "worker-00000001");
	assert_int_equal(call(f, "POST", "/v1/workers/worker-00000001/input",
	    NULL, "{\"kind\":\"user\",\"content\":\"a\"}", NULL), 200);
	ack = json_object_object_get(f->json, "ack");
	assert_int_equal(json_object_get_int(json_object_object_get(ack,
	    "event_id")), 2);
	/* transcript, 3 deltas, done, the reply's entry: the next input
	 * starts at 8 */
	assert_int_equal(call(f, "POST", "/v1/workers/worker-00000001/input",
	    NULL, "{\"kind\":\"system\",\"content\":\"b\"}", NULL), 200);
	ack = json_object_object_get(f->json, "ack");
	assert_int_equal(json_object_get_int(json_object_object_get(ack,
	    "event_id")), 8);
	assert_int_equal(json_object_get_int(json_object_object_get(ack,
	    "transcript_sequence")), 3);
	assert_int_equal(store_head(f->st), 13);

	assert_int_equal(call(f, "GET", "/v1/workers/worker-00000001/"
	    "transcript", "start=1&limit=1", NULL, NULL), 200);
	assert_int_equal(json_object_get_int(json_object_object_get(
	    json_object_object_get(f->json, "transcript"), "total_items")), 4);
	assert_int_equal(call(f, "GET", "/v1/workers/worker-00000001/"
	    "transcript", "limit=4", NULL, NULL), 400);
	assert_string_equal(err_code(f), "limit_too_large");
	assert_int_equal(call(f, "GET", "/v1/workers/worker-00000001/"
	    "transcript", "start=+1", NULL, NULL), 400);
	assert_string_equal(err_code(f), "invalid_query");
	assert_int_equal(call(f, "GET", "/v1/workers/worker-00000001/"
	    "transcript", "other=x&start=0", NULL, NULL), 200);

	assert_int_equal(call(f, "POST", "/v1/workers/worker-00000001/cancel",
	    NULL, "  ", NULL), 200);
	assert_string_equal(str_at(f->json, "ack", "status"), "cancelled");
	/* idempotent: stays cancelled, no new event */
	assert_int_equal(call(f, "POST", "/v1/workers/worker-00000001/stop",
	    NULL, NULL, NULL), 200);
	assert_string_equal(str_at(f->json, "ack", "status"), "cancelled");
	assert_int_equal(store_head(f->st), 14);
	assert_int_equal(call(f, "POST", "/v1/workers/worker-00000001/input",
	    NULL, "{\"kind\":\"user\",\"content\":\"a\"}", NULL), 409);
	assert_string_equal(err_code(f), "invalid_request");
	assert_int_equal(call(f, "POST", "/v1/workers/worker-00000009/input",
	    NULL, "{\"kind\":\"user\",\"content\":\"a\"}", NULL), 404);
	assert_string_equal(err_code(f), "worker_not_found");
	/* JSON is checked before the worker */
	assert_int_equal(call(f, "POST", "/v1/workers/worker-00000009/input",
	    NULL, "{", NULL), 400);
	assert_string_equal(err_code(f), "invalid_json");
}

static void
test_body_too_large(void **state)
{
	struct fx *f = *state;
	struct api_request req = {
		.method = "POST", .path = "/v1/workers", .query = "",
		.auth = "Bearer tok", .body_too_large = true,
	};

	api_handle(&f->ctx, &req, &f->resp);
	assert_int_equal(f->resp.status, 400);
	assert_non_null(strstr(f->resp.body, "invalid_request"));
	assert_int_equal(store_worker_count(f->st), 0);
}

static void
test_fault_precedence(void **state)
{
	struct fx *f = *state;

	f->ctx.faults.delay_ms = 50;
	f->ctx.faults.oversize_bytes = 1000;
	assert_int_equal(call(f, "GET", "/v1/runtime", NULL, NULL, NULL), 200);
	assert_true(f->resp.body_len >= 1000);
	assert_non_null(f->json);
	assert_int_equal(f->resp.delay_ms, 50);
	f->ctx.faults.invalid_json = true;
	assert_int_equal(call(f, "GET", "/v1/runtime", NULL, NULL, NULL), 200);
	assert_null(f->json);
	f->ctx.faults.fail_500 = true;
	assert_int_equal(call(f, "POST", "/v1/workers", NULL, CREATE, NULL),
	    500);
	assert_string_equal(err_code(f), "store_io");
	assert_int_equal(store_worker_count(f->st), 0);
	f->ctx.faults.refuse_token = true;
	assert_int_equal(call(f, "GET", "/v1/runtime", NULL, NULL, NULL), 401);
	assert_int_equal(f->resp.delay_ms, 50);
	assert_false(api_ws_authorized(&f->ctx, "Bearer tok"));
	/* /_control/ is never faulted nor delayed */
	assert_int_equal(call(f, "POST", "/_control/fault", NULL,
	    "{\"refuse_token\":false,\"fail_500\":false,"
	    "\"invalid_json\":false,\"oversize_bytes\":0,\"delay_ms\":0}",
	    NULL), 200);
	assert_int_equal(f->resp.delay_ms, 0);
	assert_true(api_ws_authorized(&f->ctx, "Bearer tok"));
	assert_int_equal(call(f, "GET", "/v1/runtime", NULL, NULL, NULL), 200);
	assert_int_equal(f->resp.delay_ms, 0);
	assert_int_equal(call(f, "POST", "/_control/fault", NULL,
	    "{\"fail_500\":1}", NULL), 400);
	assert_false(f->ctx.faults.fail_500);
	/* reject_code: any error code and message the test wants. */
	assert_int_equal(call(f, "POST", "/_control/fault", NULL,
	    "{\"reject_code\":\"127.0.0.1\",\"reject_message\":\"m\"}",
	    NULL), 200);
	assert_int_equal(call(f, "GET", "/v1/workers", NULL, NULL, NULL), 400);
	assert_string_equal(err_code(f), "127.0.0.1");
	assert_int_equal(call(f, "POST", "/_control/fault", NULL,
	    "{\"reject_code\":7}", NULL), 400);
	assert_int_equal(call(f, "POST", "/_control/fault", NULL,
	    "{\"reject_code\":\"\"}", NULL), 200);
	assert_int_equal(call(f, "GET", "/v1/workers", NULL, NULL, NULL), 200);
}

static void
test_controls(void **state)
{
	struct fx *f = *state;

	assert_int_equal(call(f, "POST", "/_control/drop-ws", NULL, NULL,
	    NULL), 200);
	assert_int_equal(f->drops, 1);
	assert_int_equal(json_object_get_int(json_object_object_get(f->json,
	    "dropped")), 7);
	call(f, "POST", "/v1/workers", NULL, CREATE, NULL);
	assert_int_equal(call(f, "POST", "/_control/emit", NULL,
	    "{\"worker_id\":\"worker-00000001\",\"count\":4}", NULL), 200);
	assert_int_equal(json_object_get_int(json_object_object_get(f->json,
	    "last_event_id")), 5);
	assert_int_equal(store_worker_find(f->st, "worker-00000001")->tick_n,
	    4);
	assert_int_equal(call(f, "POST", "/_control/emit", NULL,
	    "{\"worker_id\":\"worker-00000001\",\"count\":-1}", NULL), 400);
	assert_int_equal(call(f, "POST", "/_control/emit", NULL, NULL,
	    "Bearer nope"), 401);
}

static void
on_ev(void *arg, const struct store_event *ev)
{
	uint64_t *last = arg;

	assert_int_equal(ev->seq, *last + 1);
	*last = ev->seq;
}

static void
test_store_ring(void **state)
{
	struct store *st = NULL;
	struct store_worker *w = NULL;
	char err[256];
	uint64_t last = 0, eid = 0;
	int i;

	(void)state;
	assert_int_equal(store_open(&st, NULL, 4, err, sizeof(err)),
	    STORE_OK);
	store_set_listener(st, on_ev, &last);
	assert_int_equal(store_oldest(st), 1);
	assert_null(store_event_get(st, 0));
	assert_int_equal(store_worker_create(st, json_object_new_object(),
	    &w), STORE_OK);
	for (i = 0; i < 9; i++)
		assert_int_equal(store_tick(st, w, &eid), STORE_OK);
	assert_int_equal(last, 10);
	assert_int_equal(eid, 10);
	assert_int_equal(store_head(st), 10);
	assert_int_equal(store_oldest(st), 7);
	assert_null(store_event_get(st, 6));
	assert_non_null(store_event_get(st, 7));
	assert_null(store_event_get(st, 11));
	assert_int_equal(store_event_get(st, 10)->seq, 10);
	assert_ptr_equal(store_event_get(st, 10)->worker, w);
	assert_null(store_worker_find(st, "worker-00000002"));
	assert_null(store_worker_find(st, "worker-0000000A"));
	assert_null(store_worker_find(st, "worker-00000000"));
	store_free(st);
}

static void
test_store_replay(void **state)
{
	char dir[] = "/tmp/sr-unit-XXXXXX", log[64], err[256];
	struct store *st = NULL;
	struct store_worker *w = NULL;
	uint64_t tseq = 0, eid = 0;
	struct json_object *c = json_object_new_string("héllo");
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/events.jsonl", dir);
	assert_int_equal(store_open(&st, dir, 5, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_worker_create(st, json_object_new_object(),
	    &w), STORE_OK);
	assert_int_equal(store_input(st, w, "user", c, &tseq, &eid),
	    STORE_OK);
	assert_int_equal(store_set_status(st, w, STORE_STOPPED, &eid),
	    STORE_OK);
	store_free(st);

	fp = fopen(log, "a");
	assert_non_null(fp);
	fputs("{\"seq\":9,\"worker_id\":\"worker-000", fp);
	fclose(fp);
	assert_int_equal(store_open(&st, dir, 5, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_head(st), 8);
	assert_int_equal(store_oldest(st), 4);
	w = store_worker_find(st, "worker-00000001");
	assert_non_null(w);
	assert_int_equal(w->status, STORE_STOPPED);
	/* the input and the worker's reply, both replayed with their role */
	assert_int_equal(w->n_entries, 2);
	assert_string_equal(w->entries[0].role, "user");
	assert_string_equal(json_object_get_string(w->entries[0].content),
	    "héllo");
	assert_int_equal(w->entries[0].event_id, 2);
	assert_string_equal(w->entries[1].role, "assistant");
	assert_string_equal(json_object_get_string(w->entries[1].content),
	    "echo: héllo");
	assert_int_equal(w->entries[1].event_id, 7);
	assert_int_equal(store_tick(st, w, &eid), STORE_OK);
	assert_int_equal(eid, 9);
	store_free(st);

	/* damage the first line: replay refuses */
	fp = fopen(log, "r+");
	assert_non_null(fp);
	fputc('x', fp);
	fclose(fp);
	assert_int_equal(store_open(&st, dir, 5, err, sizeof(err)),
	    STORE_CORRUPT);
	assert_null(st);
	assert_non_null(strstr(err, "line 1"));
	unlink(log);
	rmdir(dir);
	json_object_put(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth_and_router, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_worker_flow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_too_large, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fault_precedence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_controls, setup,
		    teardown),
		cmocka_unit_test(test_store_ring),
		cmocka_unit_test(test_store_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
