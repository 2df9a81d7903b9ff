/*
 * sample_runtime_test — integration test of wrg-sample-runtime against
 * ../shared/contracts/runtime-api.md and docs/sample-runtime.md. It starts
 * real runtime processes (TCP on 127.0.0.1 and a Unix socket in a scratch
 * dir), talks to them only over the wire — REST with libcurl, the
 * observation socket with an lws client (srt_harness.h) — and stops every
 * process it started by pid. Every wait is bounded. Last line:
 * "sample_runtime_test: N passed, N failed"; exit 0 only if none failed.
 *
 * REST behaviour is written as tables of struct srt_case: one row is one
 * request and what its answer must be (status, error code, JSON values
 * by dotted path); "$1"/"$2" stand for worker ids saved by earlier rows.
 * The observation socket, restarts and start-up flags are scenarios in
 * code below the tables.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "srt_harness.h"
#include "srt_ws.h"

#define FULL_CREATE \
    "{\"intent\":{\"kind\":\"task\",\"objective\":\"fix the build\"}," \
    "\"profile\":{\"kind\":\"builtin\",\"value\":\"builtin:coder\"}," \
    "\"config_bundle\":{\"id\":\"bundle-1\"}," \
    "\"requested_capabilities\":[{\"name\":\"read\",\"reason\":\"x\"}]," \
    "\"workspace_refs\":[{\"name\":\"repo\",\"reference\":\"git:main\"}]," \
    "\"mount_refs\":[{\"name\":\"cache\",\"reference\":\"vol:cache\"}]}"
#define MIN_CREATE \
    "{\"intent\":{\"kind\":\"assistant\"}," \
    "\"profile\":{\"kind\":\"runtime_default\"}}"
#define UNKNOWN "/v1/workers/worker-0000ffff"

/* ---------------------------------------------------------------- */
/* REST, on the main runtime (--runtime-id rt-test, --max-transcript 4) */

#define BAD_CREATE(b) { .group = "POST /v1/workers: malformed bodies -> " \
    "400 invalid_json", .method = "POST", .path = "/v1/workers", \
    .body = (b), .status = 400, .error = "invalid_json" }
#define BAD_INPUT(b) { .group = "POST input: malformed bodies -> 400 " \
    "invalid_json", .method = "POST", .path = "/v1/workers/$1/input", \
    .body = (b), .status = 400, .error = "invalid_json" }
#define BAD_QUERY(q) { .group = "GET transcript bad query values: 400 " \
    "invalid_query", .method = "GET", \
    .path = "/v1/workers/$1/transcript?" q, .status = 400, \
    .error = "invalid_query" }
#define MISS(m, p, st) { .group = "router misses: plain 404/405, no " \
    "body, no stall on the next request", .method = (m), .path = (p), \
    .status = (st), .plain = true, .max_ms = 1000 }
#define INPUT_MORE { .method = "POST", .path = "/v1/workers/$1/input", \
    .body = "{\"kind\":\"user\",\"content\":\"more\"}" }

static const struct srt_case rest_cases[] = {
	/* auth comes before routing */
	{ "REST without token: 401 unauthorized", .method = "GET",
	    .path = "/v1/runtime", .token = SRT_NO_TOKEN, .status = 401,
	    .error = "unauthorized" },
	{ "REST wrong token: 401", .method = "GET", .path = "/v1/runtime",
	    .token = "wrong", .status = 401, .error = "unauthorized" },
	{ "REST non-bearer auth: 401", .method = "GET",
	    .path = "/v1/runtime", .token = SRT_NO_TOKEN,
	    .header = "Authorization: Basic " SRT_TOKEN, .status = 401,
	    .error = "unauthorized" },
	{ "REST auth scheme is case-insensitive", .method = "GET",
	    .path = "/v1/runtime", .token = SRT_NO_TOKEN,
	    .header = "Authorization: bearer " SRT_TOKEN, .status = 200 },
	{ "REST token with extra byte: 401", .method = "GET",
	    .path = "/v1/runtime", .token = SRT_NO_TOKEN,
	    .header = "Authorization: Bearer " SRT_TOKEN "x", .status = 401,
	    .error = "unauthorized" },
	{ "POST without token: 401", .method = "POST",
	    .path = "/v1/workers", .body = MIN_CREATE,
	    .token = SRT_NO_TOKEN, .status = 401, .error = "unauthorized" },
	{ "unknown route without token: 401 before routing",
	    .method = "GET", .path = "/nope", .token = SRT_NO_TOKEN,
	    .status = 401, .error = "unauthorized" },

	/* runtime summary */
	{ "GET /v1/runtime: RuntimeSummary shape", .method = "GET",
	    .path = "/v1/runtime", .status = 200, .json = {
		J_STR("runtime.runtime_id", "rt-test"),
		J_STR("runtime.display_name", "Test RT"),
		J_STR("runtime.backend", "memory"),
		J_STR("runtime.status", "running"),
		J_INT("runtime.worker_count", 0),
		J_INT("runtime.active_worker_count", 0),
		J_INT("runtime.stopped_worker_count", 0),
		J_INT("runtime.cancelled_worker_count", 0),
		J_INT("runtime.diagnostic_count", 0),
		J_INT("runtime.limits.max_transcript_projection_items", 4),
		J_INT_GT("runtime.limits.max_event_batch_items", 0) } },

	/* create: $1 the full worker, $2 the minimal one */
	{ "POST /v1/workers (full): WorkerDetail shape", .method = "POST",
	    .path = "/v1/workers", .body = FULL_CREATE, .status = 200,
	    .json = {
		J_SAVE("worker.worker_id", 1),
		J_STR("worker.worker_ref.worker_id", "$1"),
		J_STR("worker.worker_ref.runtime_id", "rt-test"),
		J_STR("worker.runtime_id", "rt-test"),
		J_STR("worker.status", "running"),
		J_STR("worker.intent.objective", "fix the build"),
		J_STR("worker.profile.value", "builtin:coder"),
		J_STR("worker.config_bundle.id", "bundle-1"),
		J_LEN("worker.requested_capabilities", 1),
		J_LEN("worker.workspace_refs", 1),
		J_LEN("worker.mount_refs", 1),
		J_INT("worker.transcript_len", 0),
		J_INT("worker.last_event_id", 1) } },
	{ "POST /v1/workers (minimal): empty optional fields omitted",
	    .method = "POST", .path = "/v1/workers", .body = MIN_CREATE,
	    .status = 200, .json = {
		J_SAVE("worker.worker_id", 2),
		J_STR_NE("worker.worker_id", "$1"),
		J_ABSENT("worker.config_bundle"),
		J_ABSENT("worker.requested_capabilities"),
		J_ABSENT("worker.workspace_refs"),
		J_ABSENT("worker.mount_refs"),
		J_STR("worker.profile.kind", "runtime_default") } },

	/* create: invalid bodies create nothing */
	BAD_CREATE("{"), BAD_CREATE(""), BAD_CREATE("[]"), BAD_CREATE("{}"),
	BAD_CREATE("{}x"), BAD_CREATE("null"),
	BAD_CREATE("{\"intent\":{\"kind\":\"task\"},"
	    "\"profile\":{\"kind\":\"runtime_default\"}}"),
	BAD_CREATE("{\"intent\":{\"kind\":\"role\"},"
	    "\"profile\":{\"kind\":\"runtime_default\"}}"),
	BAD_CREATE("{\"intent\":{\"kind\":\"bogus\"},"
	    "\"profile\":{\"kind\":\"runtime_default\"}}"),
	BAD_CREATE("{\"intent\":{\"kind\":\"assistant\"},"
	    "\"profile\":{\"kind\":\"builtin\"}}"),
	BAD_CREATE("{\"intent\":{\"kind\":\"assistant\"}}"),
	BAD_CREATE("{\"profile\":{\"kind\":\"runtime_default\"}}"),
	BAD_CREATE("{\"intent\":{\"kind\":\"assistant\"},"
	    "\"profile\":{\"kind\":\"runtime_default\"},"
	    "\"workspace_refs\":[{\"name\":1}]}"),
	BAD_CREATE("/* c */{\"intent\":{\"kind\":\"assistant\"},"
	    "\"profile\":{\"kind\":\"runtime_default\"}}"),
	{ "invalid UTF-8 body -> 400 invalid_json", .method = "POST",
	    .path = "/v1/workers", .body = "{\"intent\":{\"kind\":"
	    "\"assistant\"},\"profile\":{\"kind\":\"named\",\"value\":"
	    "\"\xff\"}}", .status = 400, .error = "invalid_json" },
	{ "2 MiB body -> 400 invalid_request (capped)", .method = "POST",
	    .path = "/v1/workers", .body = "{\"intent\":",
	    .pad_to = 2u << 20, .status = 400, .error = "invalid_request" },
	{ "chunked request body: 400 invalid_request at once",
	    .method = "POST", .path = "/v1/workers", .body = MIN_CREATE,
	    .header = "Transfer-Encoding: chunked", .status = 400,
	    .error = "invalid_request", .max_ms = 999 },
	{ "rejected creates created nothing", .method = "GET",
	    .path = "/v1/runtime", .json = {
		J_INT("runtime.worker_count", 2) } },

	/* list + get */
	{ "GET /v1/workers: WorkerSummary list", .method = "GET",
	    .path = "/v1/workers", .status = 200, .json = {
		J_LEN("workers", 2),
		J_STR("workers.0.worker_id", "$1"),
		J_STR("workers.0.worker_ref.worker_id", "$1"),
		J_STR("workers.0.runtime_id", "rt-test"),
		J_STR("workers.0.status", "running"),
		J_INT("workers.0.requested_capability_count", 1),
		J_TRUE("workers.0.has_config_bundle"),
		J_INT("workers.1.requested_capability_count", 0),
		J_FALSE("workers.1.has_config_bundle"),
		J_INT("workers.0.transcript_len", 0),
		J_INT("workers.0.last_event_id", 1),
		J_SET("workers.0.intent"),
		J_SET("workers.0.profile") } },
	{ "GET /v1/workers/{id}: WorkerDetail", .method = "GET",
	    .path = "/v1/workers/$1", .status = 200, .json = {
		J_STR("worker.worker_id", "$1"),
		J_STR("worker.config_bundle.id", "bundle-1") } },
	{ "GET unknown worker: 404 worker_not_found", .method = "GET",
	    .path = UNKNOWN, .status = 404, .error = "worker_not_found" },
	{ "GET escaped odd worker id: 404", .method = "GET",
	    .path = "/v1/workers/%2e%2e%2fv1%2fruntime", .status = 404,
	    .error = "worker_not_found", .or_plain = true },
	{ "GET /v1/workers/ (empty id): 400 invalid_worker_id",
	    .method = "GET", .path = "/v1/workers/", .status = 400,
	    .error = "invalid_worker_id" },

	/* input */
	{ "POST input: WorkerInteractionAck shape", .method = "POST",
	    .path = "/v1/workers/$1/input",
	    .body = "{\"kind\":\"user\",\"content\":\"hello\"}",
	    .status = 200, .json = {
		J_STR("ack.worker_ref.worker_id", "$1"),
		J_STR("ack.status", "running"),
		J_INT("ack.transcript_sequence", 1),
		J_INT("ack.event_id", 3) } },
	BAD_INPUT(""), BAD_INPUT("{"), BAD_INPUT("{}"),
	BAD_INPUT("{\"kind\":\"bot\",\"content\":\"x\"}"),
	BAD_INPUT("{\"kind\":\"user\"}"),
	BAD_INPUT("{\"kind\":\"user\",\"content\":1}"),
	BAD_INPUT("[\"user\"]"),
	{ "POST input unknown worker: 404 worker_not_found",
	    .method = "POST", .path = UNKNOWN "/input",
	    .body = "{\"kind\":\"user\",\"content\":\"x\"}", .status = 404,
	    .error = "worker_not_found" },
	/* transcript sequence 2 is the reply to "hello" */
	{ "POST input kind system accepted", .method = "POST",
	    .path = "/v1/workers/$1/input",
	    .body = "{\"kind\":\"system\",\"content\":\"sys\"}",
	    .status = 200, .json = {
		J_INT("ack.transcript_sequence", 3) } },
	INPUT_MORE, INPUT_MORE, INPUT_MORE,

	/* transcript: 10 items, pages of at most 4 */
	{ "GET transcript: TranscriptProjection, default limit capped at "
	    "max, next_start, the reply recorded", .method = "GET",
	    .path = "/v1/workers/$1/transcript", .status = 200, .json = {
		J_INT("transcript.start", 0),
		J_INT("transcript.limit", 4),
		J_INT("transcript.total_items", 10),
		J_LEN("transcript.items", 4),
		J_INT("transcript.next_start", 4),
		J_STR("transcript.worker_ref.worker_id", "$1"),
		J_INT("transcript.items.0.sequence", 1),
		J_STR("transcript.items.0.role", "user"),
		J_STR("transcript.items.0.content", "hello"),
		J_INT("transcript.items.0.event_id", 3),
		J_STR("transcript.items.0.worker_ref.worker_id", "$1"),
		J_STR("transcript.items.1.role", "assistant"),
		J_STR("transcript.items.1.content", "echo: hello"),
		J_INT("transcript.items.1.event_id", 8) } },
	{ "GET transcript start=9&limit=2: last page, next_start null",
	    .method = "GET", .path = "/v1/workers/$1/transcript?start=9&"
	    "limit=2", .status = 200, .json = {
		J_INT("transcript.start", 9),
		J_LEN("transcript.items", 1),
		J_INT("transcript.items.0.sequence", 10),
		J_NULL("transcript.next_start") } },
	{ "GET transcript past the end: empty items", .method = "GET",
	    .path = "/v1/workers/$1/transcript?start=99", .status = 200,
	    .json = { J_LEN("transcript.items", 0) } },
	{ "GET transcript limit above max: 400 limit_too_large",
	    .method = "GET", .path = "/v1/workers/$1/transcript?limit=5",
	    .status = 400, .error = "limit_too_large" },
	BAD_QUERY("start=x"), BAD_QUERY("limit=-1"), BAD_QUERY("start="),
	BAD_QUERY("limit=1.5"), BAD_QUERY("start=1e3"), BAD_QUERY("limit"),
	{ "GET transcript unknown worker: 404", .method = "GET",
	    .path = UNKNOWN "/transcript", .status = 404,
	    .error = "worker_not_found" },

	/* stop / cancel */
	{ "POST stop {reason}: WorkerLifecycleAck stopped", .method = "POST",
	    .path = "/v1/workers/$1/stop", .body = "{\"reason\":\"done\"}",
	    .status = 200, .json = {
		J_STR("ack.status", "stopped"),
		J_STR("ack.worker_ref.worker_id", "$1"),
		J_INT_GT("ack.event_id", 0) } },
	{ "input to stopped worker: 409 invalid_request", .method = "POST",
	    .path = "/v1/workers/$1/input",
	    .body = "{\"kind\":\"user\",\"content\":\"late\"}", .status = 409,
	    .error = "invalid_request" },
	{ "POST cancel with empty body: cancelled", .method = "POST",
	    .path = "/v1/workers/$2/cancel", .status = 200, .json = {
		J_STR("ack.status", "cancelled") } },
	{ "POST cancel bad reason: 400 invalid_json", .method = "POST",
	    .path = "/v1/workers/$2/cancel", .body = "{\"reason\":3}",
	    .status = 400, .error = "invalid_json" },
	{ "POST stop unknown worker: 404", .method = "POST",
	    .path = UNKNOWN "/stop", .status = 404,
	    .error = "worker_not_found" },
	{ "runtime counts follow stop/cancel", .method = "GET",
	    .path = "/v1/runtime", .json = {
		J_INT("runtime.worker_count", 2),
		J_INT("runtime.active_worker_count", 0),
		J_INT("runtime.stopped_worker_count", 1),
		J_INT("runtime.cancelled_worker_count", 1) } },

	/* router misses: plain 404 / 405 without a body */
	MISS("GET", "/", 404), MISS("GET", "/nope", 404),
	MISS("GET", "/v1", 404), MISS("GET", "/v2/runtime", 404),
	MISS("GET", "/v1/workers/x/bogus", 404),
	MISS("POST", "/v1/unknown", 404),
	MISS("DELETE", "/v1/runtime", 405), MISS("POST", "/v1/runtime", 405),
	MISS("PUT", "/v1/workers", 405),
	MISS("GET", "/v1/workers/worker-00000001/input", 405),
	MISS("GET", "/v1/workers/worker-00000001/stop", 405),
	MISS("POST", "/v1/workers/worker-00000001/transcript", 405),
	MISS("GET", "/_control/fault", 405),
};

static void
test_rest(struct srt_rt *rt)
{
	struct srt_vars vars = { 0 };

	srt_run(rt, &vars, rest_cases, SRT_N(rest_cases));
}


/* Resumes w's observation socket after event seq, a cursor the runtime
 * cannot resume from (expired or unknown), and checks the answer is the
 * contract's: the snapshot, then runtime.cursor_unknown_or_expired, then
 * close. what names the case. */
static void
check_cursor_expired(struct srt_rt *rt, const char *w, int64_t seq,
    const char *what)
{
	struct srt_ws *b = srt_ws_resume(rt, w, seq, SRT_TOKEN);

	srt_ws_wait(b, 2, 3000);
	srt_ws_wait_closed(b, 3000);
	srt_check(b->n_frames == 2 && srt_frame_is_snapshot(b, 0, w) &&
	    srt_frame_is_diag(b, 1, "runtime.cursor_unknown_or_expired") &&
	    b->state == SRT_WS_CLOSED, "%s: snapshot, then "
	    "runtime.cursor_unknown_or_expired, then close", what);
	srt_ws_free(b);
}

/* Everything about the observation socket on a fresh worker. */
static void
test_ws(struct srt_rt *rt)
{
	struct srt_res r = { 0 };
	struct srt_ws *a, *b;
	char path[512], w[64], ev[64], text[256];
	int64_t eid, last = 0, seqs[16];
	size_t i, n;
	bool ok;

	srt_new_worker_ws(rt, w, sizeof(w), path, sizeof(path));

	/* auth on the upgrade */
	a = srt_ws_open(rt, path, NULL);
	srt_check(a->state == SRT_WS_FAILED, "WS upgrade without token "
	    "refused");
	srt_ws_free(a);
	a = srt_ws_open(rt, path, "wrong");
	srt_check(a->state == SRT_WS_FAILED, "WS upgrade wrong token refused");
	srt_ws_free(a);
	/* the refusal is a real 401 with the JSON error body */
	srt_ws_refusal(rt, path, "wrong", &r);
	srt_check(srt_is_error(&r, 401, "unauthorized"), "WS upgrade wrong "
	    "token: HTTP 401 unauthorized JSON");
	srt_get(rt, path, &r);
	srt_check(r.status >= 400 && r.status < 500, "plain GET on events/ws "
	    "(no upgrade) is refused");

	/* snapshot first, then live events after input */
	a = srt_ws_open(rt, path, SRT_TOKEN);
	srt_check(a->state == SRT_WS_OPEN, "WS open with token");
	srt_ws_wait(a, 1, 3000);
	srt_check(a->n_frames == 1 && srt_frame_is_snapshot(a, 0, w),
	    "WS: first frame is the snapshot (event_id snapshot:<cursor>)");
	srt_ws_ping(a);
	srt_service_for(200);
	srt_check(a->pongs == 1, "WS: ping answered with pong");
	eid = srt_input(rt, w, "hello wörld");
	n = srt_ws_wait(a, 7, 3000);
	ok = n == 7;
	text[0] = '\0';
	for (i = 1; i < n && i < 7; i++) {
		struct json_object *f = srt_frame(a, i);

		seqs[i] = srt_frame_event(a, i, ev, sizeof(ev));
		if (seqs[i] <= last ||
		    !srt_streq(srt_jstr(f, "envelope.worker_id"), w))
			ok = false;
		last = seqs[i];
		if (i == 1 && (!srt_streq(ev, "transcript") || seqs[i] != eid))
			ok = false;
		if (i >= 2 && i <= 4) {
			if (!srt_streq(ev, "text_delta"))
				ok = false;
			else
				strncat(text, srt_jstr(f,
				    "envelope.payload.data.text") ?
				    srt_jstr(f, "envelope.payload.data.text")
				    : "", sizeof(text) - strlen(text) - 1);
		}
		if (i == 5 && (!srt_streq(ev, "text_done") ||
		    !srt_streq(srt_jstr(f, "envelope.payload.data.text"),
		    "echo: hello wörld")))
			ok = false;
		if (i == 6 && (!srt_streq(ev, "transcript") ||
		    !srt_streq(srt_jstr(f, "envelope.payload.data.role"),
		    "assistant") ||
		    srt_jint(f, "envelope.payload.data.sequence") != 2 ||
		    !srt_streq(srt_jstr(f, "envelope.payload.data.content"),
		    "echo: hello wörld")))
			ok = false;
		json_object_put(f);
	}
	srt_check(ok && srt_streq(text, "echo: hello wörld"), "WS live: "
	    "transcript event (= ack event_id), text_delta x3 joining to the "
	    "echo, "
	    "text_done, the reply's transcript event; cursors increase");

	/* resume with a cursor: exactly the events after it */
	b = srt_ws_resume(rt, w, seqs[2], SRT_TOKEN);
	srt_ws_wait(b, 5, 3000);
	srt_service_for(150);	/* anything extra would arrive now */
	ok = b->n_frames == 5 && srt_frame_is_snapshot(b, 0, w);
	for (i = 1; ok && i < 5; i++)
		ok = srt_frame_event(b, i, NULL, 0) == seqs[i + 2] &&
		    strcmp(b->frames[i], a->frames[i + 2]) == 0;
	srt_check(ok, "WS resume ?cursor=: snapshot then exactly the 4 later "
	    "events, byte-identical to live (got %zu frames)", b->n_frames);
	{
		struct json_object *f = srt_frame(b, 0);

		srt_check(json_object_array_length(srt_jget(f,
		    "envelope.payload.data.entries")) == 2 &&
		    srt_streq(srt_jstr(f,
		    "envelope.payload.data.entries.0.content"),
		    "hello wörld") &&
		    srt_streq(srt_jstr(f,
		    "envelope.payload.data.entries.1.content"),
		    "echo: hello wörld") &&
		    srt_streq(srt_jstr(f,
		    "envelope.payload.data.entries.1.role"), "assistant"),
		    "WS snapshot carries the transcript, input and reply");
		json_object_put(f);
	}
	srt_ws_free(b);

	/* resume from the last cursor: no backlog */
	b = srt_ws_resume(rt, w, seqs[6], SRT_TOKEN);
	srt_ws_wait(b, 2, 400);
	srt_check(b->n_frames == 1 && srt_frame_is_snapshot(b, 0, w),
	    "WS resume from newest cursor: snapshot only");
	srt_ws_free(b);

	/* emit */
	srt_post(rt, "/_control/emit", NULL, &r);
	srt_check(srt_is_error(&r, 400, "invalid_json"), "emit without body: "
	    "400");
	snprintf(text, sizeof(text), "{\"worker_id\":\"%s\",\"count\":5}", w);
	srt_post(rt, "/_control/emit", text, &r);
	srt_check(r.status == 200 && srt_jint(r.json,
	    "last_event_id") == last + 5,
	    "POST /_control/emit count 5: last_event_id = previous + 5");
	n = srt_ws_wait(a, 12, 3000);
	ok = n == 12;
	for (i = 7; ok && i < 12; i++) {
		struct json_object *f = srt_frame(a, i);

		ok = srt_frame_event(a, i, ev, sizeof(ev)) ==
		    last + (int64_t)i - 6 && srt_streq(ev, "tick") &&
		    srt_jint(f, "envelope.payload.data.n") == (int64_t)i - 6;
		json_object_put(f);
	}
	srt_check(ok, "WS: emitted ticks arrive live with n = 1..5");
	srt_post(rt, "/_control/emit",
	    "{\"worker_id\":\"worker-0000ffff\",\"count\":1}", &r);
	srt_check(srt_is_error(&r, 404, "worker_not_found"), "emit unknown "
	    "worker: 404");

	/* stop: status event on the live socket */
	snprintf(path, sizeof(path), "/v1/workers/%s/stop", w);
	srt_post(rt, path, NULL, &r);
	n = srt_ws_wait(a, 13, 3000);
	{
		struct json_object *f = srt_frame(a, 12);

		srt_check(n == 13 &&
		    srt_streq(srt_jstr(f, "envelope.payload.event"),
		    "status") &&
		    srt_streq(srt_jstr(f, "envelope.payload.data.status"),
		    "stopped") &&
		    srt_frame_event(a, 12, NULL, 0) ==
		    srt_jint(r.json, "ack.event_id"),
		    "WS: stop emits a status event (id = ack)");
		json_object_put(f);
	}

	/* a data frame from the client */
	srt_ws_send(a, "hello?");
	srt_ws_wait(a, 14, 3000);
	srt_ws_wait_closed(a, 3000);
	srt_check(a->n_frames == 14 && srt_frame_is_diag(a, 13,
	    "runtime.observation_only") && a->state == SRT_WS_CLOSED,
	    "WS data frame: runtime.observation_only diagnostic, then close");
	srt_ws_free(a);

	/* diagnostics before any snapshot */
	{
		static const char *const bad[] = { "bad", "", "wo_",
		    "wo_000000000000000G", "WO_0000000000000001",
		    "wo_000000000000000A", "wo_00000000000000001",
		    "wo_000000000000001", "cursor",
		    "wo_00000000000000010000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    };
		bool all = true;
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			if (strcmp(bad[k], "cursor") == 0)
				snprintf(path, sizeof(path),
				    "/v1/workers/%s/events/ws?cursor", w);
			else
				snprintf(path, sizeof(path),
				    "/v1/workers/%s/events/ws?cursor=%s", w,
				    bad[k]);
			b = srt_ws_open(rt, path, SRT_TOKEN);
			srt_ws_wait(b, 1, 3000);
			srt_ws_wait_closed(b, 3000);
			if (!(b->n_frames == 1 && srt_frame_is_diag(b, 0,
			    "runtime.cursor_malformed") &&
			    b->state == SRT_WS_CLOSED)) {
				printf("# cursor '%s': %zu frames\n", bad[k],
				    b->n_frames);
				all = false;
			}
			srt_ws_free(b);
		}
		srt_check(all, "WS malformed cursors: only "
		    "runtime.cursor_malformed, then close (%zu cases)", k);
	}
	b = srt_ws_open(rt, "/v1/workers/worker-0000ffff/events/ws",
	    SRT_TOKEN);
	srt_ws_wait(b, 1, 3000);
	srt_ws_wait_closed(b, 3000);
	srt_check(b->n_frames == 1 && srt_frame_is_diag(b, 0,
	    "runtime.worker_not_found") && b->state == SRT_WS_CLOSED,
	    "WS unknown worker: only runtime.worker_not_found, then close");
	srt_ws_free(b);
	b = srt_ws_open(rt, "/v1/workers/worker-0000ffff/events/ws?cursor="
	    "wo_0000000000000001", SRT_TOKEN);
	srt_ws_wait(b, 1, 3000);
	srt_check(b->n_frames == 1 && srt_frame_is_diag(b, 0,
	    "runtime.worker_not_found"), "WS unknown worker with valid "
	    "cursor: worker_not_found (no snapshot)");
	srt_ws_free(b);
	check_cursor_expired(rt, w, last + 1000, "WS future cursor");
	b = srt_ws_open(rt, "/v1/workers/x/events/wsx", SRT_TOKEN);
	srt_check(b->state == SRT_WS_FAILED, "WS upgrade on a non-events path "
	    "refused");
	srt_ws_free(b);

	/* drop-ws */
	{
		char w2[64];
		struct srt_ws *c1, *c2, *c3;

		srt_new_worker_ws(rt, w2, sizeof(w2), path, sizeof(path));
		c1 = srt_ws_open(rt, path, SRT_TOKEN);
		c2 = srt_ws_open(rt, path, SRT_TOKEN);
		srt_ws_wait(c1, 1, 3000);
		srt_ws_wait(c2, 1, 3000);
		srt_post(rt, "/_control/drop-ws", NULL, &r);
		srt_check(r.status == 200 && srt_jint(r.json, "dropped") == 2,
		    "POST /_control/drop-ws: {\"dropped\": 2}");
		srt_ws_wait_closed(c1, 3000);
		srt_ws_wait_closed(c2, 3000);
		srt_check(c1->state == SRT_WS_CLOSED &&
		    c2->state == SRT_WS_CLOSED &&
		    c1->close_code == 0 && c2->close_code == 0 &&
		    c1->n_frames == 1 && c2->n_frames == 1,
		    "drop-ws: both sockets closed abruptly (no close frame, "
		    "no diagnostic)");
		c3 = srt_ws_open(rt, path, SRT_TOKEN);
		srt_ws_wait(c3, 1, 3000);
		srt_check(c3->n_frames == 1 && srt_frame_is_snapshot(c3, 0,
		    w2), "after drop-ws new observation sockets work");
		srt_post(rt, "/_control/drop-ws", NULL, &r);
		srt_check(srt_jint(r.json, "dropped") == 1, "drop-ws counts "
		    "only open sockets");
		srt_ws_free(c1);
		srt_ws_free(c2);
		srt_ws_free(c3);
	}
	srt_res_clear(&r);
}

/* Retention window: --retention 8. */
static void
test_retention(void)
{
	struct srt_rt rt;
	struct srt_res r = { 0 };
	struct srt_ws *b;
	char w[64], path[512], body[128];
	size_t i;
	bool ok;

	if (!srt_rt_start(&rt, "retention", NULL, "--token", SRT_TOKEN,
	    "--retention", "8", NULL)) {
		srt_check(false, "start runtime --retention 8");
		return;
	}
	snprintf(w, sizeof(w), "%s", srt_create_worker(&rt));	/* seq 1 */
	snprintf(body, sizeof(body), "{\"worker_id\":\"%s\",\"count\":15}", w);
	srt_post(&rt, "/_control/emit", body, &r);		/* 2..16 */
	srt_check(srt_jint(r.json, "last_event_id") == 16, "retention: 16 "
	    "events");
	check_cursor_expired(&rt, w, 1, "expired cursor");
	b = srt_ws_resume(&rt, w, 8, SRT_TOKEN);	/* oldest retained is 9 */
	srt_ws_wait(b, 9, 3000);
	srt_service_for(100);
	ok = b->n_frames == 9 && srt_frame_is_snapshot(b, 0, w);
	for (i = 1; ok && i < 9; i++)
		ok = srt_frame_event(b, i, NULL, 0) == 8 + (int64_t)i;
	srt_check(ok, "cursor at the window edge: full backlog 9..16");
	srt_ws_free(b);
	check_cursor_expired(&rt, w, 7, "cursor one before the window edge");

	/* a connection that falls too far behind: queue cap is
	 * retention + 4096 messages, one emit of 5000 overflows it */
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws", w);
	b = srt_ws_open(&rt, path, SRT_TOKEN);
	srt_ws_wait(b, 1, 3000);
	snprintf(body, sizeof(body), "{\"worker_id\":\"%s\",\"count\":5000}",
	    w);
	srt_post(&rt, "/_control/emit", body, &r);
	srt_ws_wait_closed(b, 5000);
	srt_check(b->n_frames >= 2 && srt_frame_is_diag(b, b->n_frames - 1,
	    "runtime.cursor_expired") && b->state == SRT_WS_CLOSED,
	    "slow observer over its queue cap: runtime.cursor_expired, "
	    "then close");
	srt_ws_free(b);
	srt_rt_stop(&rt, SIGTERM);
	srt_res_clear(&r);
}

static int
count_lines(const char *file)
{
	FILE *f = fopen(file, "r");
	int c, n = 0;

	if (f == NULL)
		return -1;
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

/* --state-dir: kill -9, restart, continuity. */
static void
test_state_dir(void)
{
	struct srt_rt rt;
	struct srt_res r = { 0 };
	struct srt_ws *a, *b;
	char dir[600], log[700], w[64], path[512];
	int64_t e1, e2, head;
	size_t i;
	bool ok;
	int st;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/state", srt_scratch());
	snprintf(log, sizeof(log), "%s/events.jsonl", dir);
	if (!srt_rt_start(&rt, "state1", NULL, "--token", SRT_TOKEN,
	    "--state-dir", dir, "--retention", "12", NULL)) {
		srt_check(false, "start runtime --state-dir");
		return;
	}
	srt_get(&rt, "/v1/runtime", &r);
	srt_check(srt_streq(srt_jstr(r.json, "runtime.backend"), "fs_store"),
	    "state-dir runtime reports backend fs_store");
	srt_new_worker_ws(&rt, w, sizeof(w), path, sizeof(path));	/* 1 */
	a = srt_ws_open(&rt, path, SRT_TOKEN);
	srt_ws_wait(a, 1, 3000);
	e1 = srt_input(&rt, w, "first");			/* 2..7 */
	e2 = srt_input(&rt, w, "second");			/* 8..13 */
	srt_ws_wait(a, 13, 3000);
	srt_check(e1 == 2 && e2 == 8 && a->n_frames == 13, "state-dir: events "
	    "2..13 observed live");
	srt_check(count_lines(log) == 13, "every event is in the log before "
	    "kill -9 (13 lines)");
	srt_rt_stop(&rt, SIGKILL);
	srt_ws_wait_closed(a, 3000);

	/* a torn last line, as a kill -9 mid-write would leave */
	f = fopen(log, "a");
	if (f != NULL) {
		fputs("{\"seq\":14,\"worker_id\":\"wor", f);
		fclose(f);
	}
	if (!srt_rt_start(&rt, "state2", NULL, "--token", SRT_TOKEN,
	    "--state-dir", dir, "--retention", "12", NULL)) {
		srt_check(false, "restart after kill -9 with a torn last "
		    "line");
		srt_ws_free(a);
		srt_res_clear(&r);
		return;
	}
	srt_check(true, "restart after kill -9 with a torn last line");
	snprintf(path, sizeof(path), "/v1/workers/%s", w);
	srt_get(&rt, path, &r);
	srt_check(r.status == 200 && srt_jint(r.json,
	    "worker.transcript_len") == 4 &&
	    srt_jint(r.json, "worker.last_event_id") == 13 &&
	    srt_streq(srt_jstr(r.json, "worker.status"), "running"),
	    "after restart the worker is still there (transcript 4, last "
	    "event 13)");
	snprintf(path, sizeof(path), "/v1/workers/%s/transcript", w);
	srt_get(&rt, path, &r);
	srt_check(srt_streq(srt_jstr(r.json, "transcript.items.1.content"),
	    "echo: first") &&
	    srt_streq(srt_jstr(r.json, "transcript.items.1.role"),
	    "assistant") &&
	    srt_streq(srt_jstr(r.json, "transcript.items.2.content"),
	    "second") &&
	    srt_jint(r.json, "transcript.items.2.event_id") == 8,
	    "after restart the transcript is intact, replies included");

	/* the old cursor still resumes, with byte-identical events */
	b = srt_ws_resume(&rt, w, e1, SRT_TOKEN);
	srt_ws_wait(b, 12, 3000);
	srt_service_for(100);
	ok = b->n_frames == 12 && srt_frame_is_snapshot(b, 0, w);
	for (i = 1; ok && i < 12; i++)
		ok = strcmp(b->frames[i], a->frames[i + 1]) == 0;
	srt_check(ok, "after restart a pre-crash cursor yields exactly the "
	    "same later events (%zu frames)", b->n_frames);
	srt_ws_free(b);
	srt_ws_free(a);

	/* ids continue: no cursor is reused for a different event */
	head = srt_input(&rt, w, "third");
	srt_check(head == 14, "after restart event ids continue at 14 (got %"
	    PRId64 ")", head);
	srt_check(count_lines(log) == 19, "torn line was cut: log has 19 "
	    "complete lines");

	/* the retention window survives too (12 events retained) */
	check_cursor_expired(&rt, w, 6, "retention window after restart: "
	    "cursor 6 (window 8..19)");
	b = srt_ws_resume(&rt, w, 7, SRT_TOKEN);
	srt_ws_wait(b, 13, 3000);
	srt_check(b->n_frames == 13, "retention window after restart: cursor "
	    "7 gives 12 events");
	srt_ws_free(b);
	st = srt_rt_stop(&rt, SIGTERM);
	srt_check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "SIGTERM: clean exit 0");

	/* a corrupt line in the middle is refused, not ignored */
	f = fopen(log, "r+");
	if (f != NULL) {
		fseek(f, 3, SEEK_SET);
		fputc('#', f);
		fclose(f);
	}
	srt_check(!srt_rt_start(&rt, "state3", NULL, "--state-dir", dir, NULL),
	    "corrupt event log (not a torn tail): start refused");
	if (rt.pid > 0)
		srt_rt_stop(&rt, SIGKILL);
	srt_res_clear(&r);
}

/* --tick-ms, persisted tick counter across restart. */
static void
test_tick(void)
{
	struct srt_rt rt;
	struct srt_res r = { 0 };
	struct srt_ws *a;
	char dir[600], w[64], path[512];
	int64_t n_last = 0, last_id, id2;
	size_t i;
	bool ok = true;

	snprintf(dir, sizeof(dir), "%s/tickstate", srt_scratch());
	if (!srt_rt_start(&rt, "tick1", NULL, "--tick-ms", "30", "--state-dir",
	    dir, NULL)) {
		srt_check(false, "start runtime --tick-ms 30");
		return;
	}
	srt_new_worker_ws(&rt, w, sizeof(w), path, sizeof(path));
	a = srt_ws_open(&rt, path, NULL);
	srt_ws_wait(a, 5, 3000);
	for (i = 1; i < a->n_frames; i++) {
		struct json_object *f = srt_frame(a, i);
		int64_t n = srt_jint(f, "envelope.payload.data.n");

		if (!srt_streq(srt_jstr(f, "envelope.payload.event"),
		    "tick") || (n_last != 0 && n != n_last + 1))
			ok = false;
		n_last = n;
		json_object_put(f);
	}
	srt_check(ok && a->n_frames >= 5, "--tick-ms: running worker emits "
	    "tick events n=K, K+1, ... (no token configured: open access)");
	srt_ws_free(a);
	srt_rt_stop(&rt, SIGKILL);
	if (!srt_rt_start(&rt, "tick2", NULL, "--tick-ms", "30", "--state-dir",
	    dir, NULL)) {
		srt_check(false, "restart tick runtime");
		return;
	}
	a = srt_ws_open(&rt, path, NULL);
	srt_ws_wait(a, 2, 3000);
	{
		struct json_object *f = srt_frame(a, 1);

		srt_check(srt_streq(srt_jstr(f, "envelope.payload.event"),
		    "tick") && srt_jint(f, "envelope.payload.data.n") > n_last,
		    "tick counter continues after kill -9 + restart");
		json_object_put(f);
	}
	srt_ws_free(a);
	snprintf(path, sizeof(path), "/v1/workers/%s/stop", w);
	srt_req(&rt, "POST", path, NULL, NULL, 0, NULL, &r);
	last_id = srt_jint(r.json, "ack.event_id");
	srt_sleep_ms(200);
	snprintf(path, sizeof(path), "/v1/workers/%s", w);
	srt_req(&rt, "GET", path, NULL, NULL, 0, NULL, &r);
	id2 = srt_jint(r.json, "worker.last_event_id");
	srt_check(last_id > 0 && id2 == last_id, "a stopped worker does not "
	    "tick");
	srt_rt_stop(&rt, SIGTERM);
	srt_res_clear(&r);
}

/* --listen unix:PATH and --token-file. */
static void
test_unix(void)
{
	struct srt_rt rt;
	struct srt_res r = { 0 };
	struct srt_ws *a, *o;
	char sock[600], tf[600], w[64], w2[64], path[512], buf[16] = "";
	FILE *f;

	snprintf(sock, sizeof(sock), "%s/rt.sock", srt_scratch());
	snprintf(tf, sizeof(tf), "%s/token", srt_scratch());
	f = fopen(tf, "w");
	if (f != NULL) {
		fputs(SRT_TOKEN "\n", f);
		fclose(f);
	}
	if (!srt_rt_start(&rt, "unix", sock, "--token-file", tf, NULL)) {
		srt_check(false, "start runtime on a unix socket");
		return;
	}
	f = fopen(rt.ready, "r");
	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	srt_check(strcmp(buf, "0\n") == 0, "unix: ready file contains 0");
	srt_get(&rt, "/v1/runtime", &r);
	srt_check(r.status == 200 && srt_streq(srt_jstr(r.json,
	    "runtime.runtime_id"),
	    "sample") && json_object_is_type(srt_jget(r.json,
	    "runtime.display_name"), json_type_null) &&
	    srt_jhas(r.json, "runtime.display_name"), "unix: GET /v1/runtime "
	    "(defaults: runtime_id sample, display_name null; --token-file)");
	srt_req(&rt, "GET", "/v1/runtime", "nope", NULL, 0, NULL, &r);
	srt_check(srt_is_error(&r, 401, "unauthorized"), "unix: wrong token "
	    "401");
	/* o: a socket on another worker, which must see none of w's */
	srt_new_worker_ws(&rt, w2, sizeof(w2), path, sizeof(path));
	o = srt_ws_open(&rt, path, SRT_TOKEN);
	srt_new_worker_ws(&rt, w, sizeof(w), path, sizeof(path));
	a = srt_ws_open(&rt, path, SRT_TOKEN);
	srt_ws_wait(a, 1, 3000);
	srt_input(&rt, w, "over unix");
	srt_ws_wait(a, 7, 3000);
	srt_check(a->n_frames == 7 && srt_frame_is_snapshot(a, 0, w),
	    "unix: WS snapshot + live events");
	srt_service_for(100);
	srt_check(o->n_frames == 1 && srt_frame_is_snapshot(o, 0, w2),
	    "a worker's events reach only its own sockets");
	srt_ws_free(o);
	srt_ws_free(a);
	srt_rt_stop(&rt, SIGTERM);
	srt_check(access(sock, F_OK) != 0, "unix: socket file removed on "
	    "exit");
	srt_res_clear(&r);
}

/* Every fault switch, via /_control/fault on a running runtime. */

/* ---------------------------------------------------------------- */
/* fault switches                                                     */

#define FAULT(b) .method = "POST", .path = "/_control/fault", .body = (b)

/* Every switch via /_control/fault on the running main runtime; the WS
 * side of refuse_token is checked between the two tables. */
static const struct srt_case fault_on_cases[] = {
	{ "fault: bad value -> 400", FAULT("{\"delay_ms\":\"x\"}"),
	    .status = 400, .error = "invalid_json" },
	{ "fault: full state returned", FAULT("{\"delay_ms\":300}"),
	    .status = 200, .json = {
		J_INT("fault.delay_ms", 300),
		J_HAS("fault.fail_500"),
		J_HAS("fault.invalid_json"),
		J_HAS("fault.oversize_bytes"),
		J_HAS("fault.refuse_token") } },
	{ "fault delay_ms 300: answer delayed", .method = "GET",
	    .path = "/v1/runtime", .status = 200, .min_ms = 290,
	    .json = { J_SET("runtime") } },
	{ "fault delay does not apply to /_control/", FAULT("{}"),
	    .max_ms = 249 },
	{ FAULT("{\"delay_ms\":0,\"fail_500\":true}") },
	{ "fault fail_500: 500 store_io naming a path", .method = "GET",
	    .path = "/v1/workers", .status = 500, .error = "store_io",
	    .json = { J_HAS_CHAR("error.message", "/") } },
	{ "control endpoint unaffected by faults",
	    FAULT("{\"fail_500\":false,\"invalid_json\":true}"),
	    .status = 200 },
	{ "fault invalid_json: 200 with an unparsable body",
	    .method = "GET", .path = "/v1/runtime", .status = 200,
	    .unparsable = true },
	{ FAULT("{\"invalid_json\":false,\"oversize_bytes\":200000}") },
	{ "fault oversize_bytes: 200 with valid JSON >= N bytes",
	    .method = "GET", .path = "/v1/runtime", .status = 200,
	    .min_len = 200000, .json = {
		J_STR("runtime.runtime_id", "rt-test") } },
	{ FAULT("{\"oversize_bytes\":0,\"refuse_token\":true}") },
	{ "fault refuse_token: REST 401 with the right token",
	    .method = "GET", .path = "/v1/runtime", .status = 401,
	    .error = "unauthorized" },
};

static const struct srt_case fault_off_cases[] = {
	{ "fault: all switches off again", FAULT("{\"refuse_token\":false}"),
	    .status = 200, .json = {
		J_INT("fault.delay_ms", 0),
		J_FALSE("fault.refuse_token") } },
	{ "after faults: normal", .method = "GET", .path = "/v1/runtime",
	    .status = 200, .json = { J_SET("runtime") } },
};

static void
test_faults_control(struct srt_rt *rt)
{
	struct srt_vars vars = { 0 };
	struct srt_ws *a;
	char path[512];

	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws",
	    srt_create_worker(rt));
	srt_run(rt, &vars, fault_on_cases, SRT_N(fault_on_cases));
	a = srt_ws_open(rt, path, SRT_TOKEN);
	srt_check(a->state == SRT_WS_FAILED, "fault refuse_token: WS upgrade "
	    "refused");
	srt_ws_free(a);
	srt_run(rt, &vars, fault_off_cases, SRT_N(fault_off_cases));
}

/* Every switch as a start-up flag: one fresh runtime per row. */
static const struct {
	const char *args[4];		/* args[0] names the row */
	struct srt_case cases[2];
	const char *ws_refused;		/* a WS upgrade must fail: check */
} fault_flag_runs[] = {
	{ .args = { "--fault-delay-ms", "250" }, .cases = {
	    { "--fault-delay-ms 250", .method = "GET",
		.path = "/v1/runtime", .token = SRT_NO_TOKEN, .status = 200,
		.min_ms = 240 } } },
	{ .args = { "--fault-500" }, .cases = {
	    { "--fault-500", .method = "GET", .path = "/v1/runtime",
		.token = SRT_NO_TOKEN, .status = 500, .error = "store_io" },
	    { "--fault-500 shows in /_control/fault", .method = "POST",
		.path = "/_control/fault", .token = SRT_NO_TOKEN,
		.status = 200, .json = { J_TRUE("fault.fail_500") } } } },
	{ .args = { "--fault-invalid-json" }, .cases = {
	    { "--fault-invalid-json", .method = "GET",
		.path = "/v1/workers", .token = SRT_NO_TOKEN, .status = 200,
		.unparsable = true } } },
	{ .args = { "--fault-oversize", "3000000" }, .cases = {
	    { "--fault-oversize 3000000", .method = "GET",
		.path = "/v1/workers", .token = SRT_NO_TOKEN, .status = 200,
		.min_len = 3000000, .json = { J_SET("workers") } } } },
	{ .args = { "--fault-refuse-token", "--token", SRT_TOKEN }, .cases = {
	    { "--fault-refuse-token: REST 401", .method = "GET",
		.path = "/v1/runtime", .status = 401,
		.error = "unauthorized" } },
	    .ws_refused = "--fault-refuse-token: WS 401" },
};

static void
test_fault_flags(void)
{
	size_t i, n;

	for (i = 0; i < SRT_N(fault_flag_runs); i++) {
		const char *const *a = fault_flag_runs[i].args;
		struct srt_vars vars = { 0 };
		struct srt_rt rt;
		char name[32];

		snprintf(name, sizeof(name), "fault-flag-%zu", i);
		if (!srt_rt_start(&rt, name, NULL, a[0], a[1], a[2], a[3],
		    NULL)) {
			srt_check(false, "start %s", a[0]);
			continue;
		}
		for (n = 0; n < 2 && fault_flag_runs[i].cases[n].method; n++)
			;
		srt_run(&rt, &vars, fault_flag_runs[i].cases, n);
		if (fault_flag_runs[i].ws_refused != NULL) {
			struct srt_ws *ws = srt_ws_open(&rt,
			    "/v1/workers/worker-00000001/events/ws",
			    SRT_TOKEN);

			srt_check(ws->state == SRT_WS_FAILED, "%s",
			    fault_flag_runs[i].ws_refused);
			srt_ws_free(ws);
		}
		srt_rt_stop(&rt, SIGTERM);
	}
}

/* Fast enough that benchmarks measure wrg, not the peer. */
static void
test_speed(struct srt_rt *rt)
{
	struct srt_res r = { 0 };
	long long t0 = srt_now_ms();
	int i, ok = 0;

	for (i = 0; i < 1000; i++)
		if (srt_get(rt, "/v1/workers", &r) && r.status == 200)
			ok++;
	srt_check(ok == 1000 && srt_now_ms() - t0 < 10000, "1000 sequential "
	    "REST requests in %lld ms", srt_now_ms() - t0);
	srt_res_clear(&r);
}

static void
test_bad_cli(void)
{
	struct srt_rt rt;

	srt_check(!srt_rt_start(&rt, "bad1", NULL, "--retention", "x", NULL),
	    "bad --retention: start refused");
	srt_check(!srt_rt_start(&rt, "bad2", NULL, "--bogus", NULL),
	    "unknown option: start refused");
	srt_check(!srt_rt_start(&rt, "bad3", "/nonexistent-dir/x.sock", NULL),
	    "unix socket in a missing dir: start refused, no ready file");
}


int
main(void)
{
	struct srt_rt rt;

	if (!srt_init("sample_runtime_test"))
		return 99;
	if (srt_rt_start(&rt, "main", NULL, "--token", SRT_TOKEN,
	    "--runtime-id", "rt-test", "--display-name", "Test RT",
	    "--max-transcript", "4", NULL)) {
		test_rest(&rt);
		test_ws(&rt);
		test_faults_control(&rt);
		test_speed(&rt);
		srt_check(srt_rt_stop(&rt, SIGTERM) == 0,
		    "main runtime: SIGTERM exit 0");
	} else {
		srt_check(false, "start the main runtime");
	}
	test_retention();
	test_state_dir();
	test_tick();
	test_unix();
	test_fault_flags();
	test_bad_cli();
	return srt_finish();
}
