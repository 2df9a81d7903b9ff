/*
 * Fuzz target: wrg-wsproxy's reading of runtime WebSocket text frames and
 * the browser frames built from them (wsproxy/frame.c). The whole input
 * is one runtime frame; the registry id is fixed.
 *
 * Invariants beyond "no crash, no leak":
 *  - an event becomes exactly {"kind":"event","envelope":{cursor,
 *    event_id, runtime_id, worker_id, payload}}, strict JSON, with the
 *    registry runtime_id (never the runtime's own), and cursor, event_id,
 *    worker_id and payload equal to the runtime's; in->cursor is that
 *    cursor and one a browser may send back (frame_cursor_valid);
 *    in->worker_id is the envelope's; the snapshot flag follows
 *    event_id "snapshot:" or payload.event "snapshot";
 *  - a diagnostic maps to a valid action, and the browser diagnostic the
 *    proxy would send for it is {"kind":"diagnostic","diagnostic":{code,
 *    message}} with a "backend." code of browser-api.md and the message
 *    of wsproxy's own table for that code: no byte of the runtime's
 *    message text; the operator copy of the runtime's code is the code
 *    when the contract knows it, else "unknown";
 *  - on any error *in holds nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz_check.h"
#include "wjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REG_ID "registry-rt.1"

/* browser-api.md's diagnostic codes. */
static const char *const contract_codes[] = { "backend.runtime_not_found",
    "backend.worker_not_found", "backend.runtime_unavailable",
    "backend.cursor_malformed", "backend.cursor_unknown_or_expired",
    "backend.upstream_reconnecting", "backend.resynced",
    "backend.observation_only", "backend.slow_consumer",
    "backend.shutting_down" };

static bool
same_str(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void
check_event(const struct frame_in *in, struct json_object *src)
{
	static const char *const keys[] = { "cursor", "event_id",
	    "runtime_id", "worker_id", "payload" };
	struct json_object *out, *env, *senv = fuzz_member(src, "envelope");
	struct json_object *pl;
	const char *ev;
	size_t n = 0;
	bool snap;

	FUZZ_CHECK(in->out != NULL && strlen(in->out) == in->out_len,
	    "event out");
	out = wjson_parse(in->out, in->out_len, WJSON_MAX_DEPTH + 2);
	FUZZ_CHECK(out != NULL, "event frame is not strict JSON: %s",
	    in->out);
	FUZZ_CHECK(json_object_object_length(out) == 2 &&
	    same_str(fuzz_member_str(out, "kind"), "event"), "event frame %s",
	    in->out);
	env = fuzz_member(out, "envelope");
	FUZZ_CHECK(json_object_is_type(env, json_type_object) &&
	    json_object_object_length(env) == 5, "envelope %s", in->out);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		FUZZ_CHECK(json_object_object_get_ex(env, keys[i], NULL),
		    "envelope lacks %s", keys[i]);
	FUZZ_CHECK(same_str(fuzz_member_str(env, "runtime_id"), REG_ID),
	    "runtime_id %s", in->out);
	FUZZ_CHECK(same_str(fuzz_member_str(env, "cursor"),
	    fuzz_member_str(senv, "cursor")), "cursor changed");
	FUZZ_CHECK(same_str(fuzz_member_str(env, "cursor"), in->cursor),
	    "in->cursor");
	n = strlen(in->cursor);
	FUZZ_CHECK(n >= 1 && n <= FRAME_CURSOR_MAX, "cursor length %zu", n);
	FUZZ_CHECK(frame_cursor_valid(in->cursor), "cursor %s", in->cursor);
	FUZZ_CHECK(same_str(fuzz_member_str(senv, "worker_id"),
	    in->worker_id), "in->worker_id");
	FUZZ_CHECK(same_str(fuzz_member_str(env, "event_id"),
	    fuzz_member_str(senv, "event_id")), "event_id changed");
	FUZZ_CHECK(same_str(fuzz_member_str(env, "worker_id"),
	    fuzz_member_str(senv, "worker_id")), "worker_id changed");
	FUZZ_CHECK(fuzz_member_str(env, "worker_id")[0] != '\0',
	    "empty worker");
	pl = fuzz_member(senv, "payload");
	FUZZ_CHECK(json_object_equal(fuzz_member(env, "payload"), pl),
	    "payload changed: %s", in->out);
	ev = fuzz_member_str(pl, "event");
	snap = strncmp(fuzz_member_str(senv, "event_id"), "snapshot:", 9)
	    == 0 ||
	    same_str(ev, "snapshot");
	FUZZ_CHECK(in->snapshot == snap, "snapshot flag");
	json_object_put(out);
}

static void
check_diag_frame(enum frame_diag d, const char *runtime_msg)
{
	size_t len = 0;
	char *s = frame_diag_json(d, &len);
	struct json_object *o, *dg;
	const char *code, *msg;
	bool known = false;

	FUZZ_CHECK(s != NULL && strlen(s) == len, "diag frame");
	o = wjson_parse(s, len, WJSON_MAX_DEPTH);
	FUZZ_CHECK(o != NULL && json_object_object_length(o) == 2 &&
	    same_str(fuzz_member_str(o, "kind"), "diagnostic"), "diag %s", s);
	dg = fuzz_member(o, "diagnostic");
	FUZZ_CHECK(json_object_is_type(dg, json_type_object) &&
	    json_object_object_length(dg) == 2, "diag body %s", s);
	code = fuzz_member_str(dg, "code");
	msg = fuzz_member_str(dg, "message");
	for (size_t i = 0; code && i < sizeof(contract_codes) /
	    sizeof(contract_codes[0]); i++)
		known = known || strcmp(code, contract_codes[i]) == 0;
	FUZZ_CHECK(known && strncmp(code, "backend.", 8) == 0,
	    "diag code %s", code ? code : "-");
	FUZZ_CHECK(same_str(code, frame_diag_code(d)) &&
	    same_str(msg, frame_diag_message(d)), "diag not from the table");
	/* The runtime's text is never copied (unless it is wsproxy's own
	 * sentence to begin with). */
	if (runtime_msg != NULL && strlen(runtime_msg) >= 8) {
		bool ours = false;

		for (int k = 0; k < FRAME_DIAG_COUNT; k++)
			ours = ours || strstr(frame_diag_message(
			    (enum frame_diag)k), runtime_msg) != NULL ||
			    strstr(frame_diag_code((enum frame_diag)k),
			    runtime_msg) != NULL;
		FUZZ_CHECK(ours || strstr(s, runtime_msg) == NULL,
		    "runtime text copied: %s", s);
	}
	json_object_put(o);
	free(s);
}

static void
check_diagnostic(const struct frame_in *in, struct json_object *src)
{
	struct json_object *d = fuzz_member(src, "diagnostic");
	const char *code = fuzz_member_str(d, "code");
	size_t n = strlen(in->runtime_code);

	FUZZ_CHECK(in->out == NULL, "diagnostic with out");
	FUZZ_CHECK(code != NULL, "diagnostic without code accepted");
	FUZZ_CHECK(in->action == FRAME_ACT_RECONNECT ||
	    in->action == FRAME_ACT_RESYNC || in->action == FRAME_ACT_CLOSE,
	    "action %d", (int)in->action);
	FUZZ_CHECK((unsigned)in->diag < FRAME_DIAG_COUNT, "diag %d",
	    (int)in->diag);
	if (strncmp(code, "runtime.", 8) != 0)
		FUZZ_CHECK(in->action == FRAME_ACT_RECONNECT,
		    "unknown code %s is not transient", in->runtime_code);
	FUZZ_CHECK(n < sizeof(in->runtime_code), "runtime_code");
	FUZZ_CHECK(strcmp(in->runtime_code, "unknown") == 0 ||
	    (strcmp(in->runtime_code, code) == 0 &&
	    strncmp(code, "runtime.", 8) == 0),
	    "runtime_code %s for code %s", in->runtime_code, code);
	check_diag_frame(in->diag, fuzz_member_str(d, "message"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_in in;
	struct json_object *src;
	enum frame_err err;
	char *copy;

	err = frame_parse((const char *)data, size, REG_ID, &in);
	FUZZ_CHECK(frame_strerror(err) != NULL, "strerror");
	src = wjson_parse((const char *)data, size, WJSON_MAX_DEPTH);
	switch (err) {
	case FRAME_OK:
		FUZZ_CHECK(src != NULL, "accepted what wjson refuses");
		if (in.kind == FRAME_EVENT) {
			FUZZ_CHECK(same_str(fuzz_member_str(src, "kind"),
			    "event"),
			    "kind");
			check_event(&in, src);
		} else {
			FUZZ_CHECK(in.kind == FRAME_DIAGNOSTIC, "kind %d",
			    (int)in.kind);
			FUZZ_CHECK(same_str(fuzz_member_str(src, "kind"),
			    "diagnostic"), "kind");
			check_diagnostic(&in, src);
		}
		break;
	case FRAME_ERR_JSON:
	case FRAME_ERR_SHAPE:
		FUZZ_CHECK(in.out == NULL && in.kind == 0, "error left state");
		FUZZ_CHECK((err == FRAME_ERR_JSON) == (src == NULL ||
		    !json_object_is_type(src, json_type_object)),
		    "error class");
		break;
	default:
		FUZZ_CHECK(0, "frame_parse returned %d", (int)err);
	}
	frame_in_clear(&in);
	json_object_put(src);

	/* The same bytes as a browser's ?cursor=. */
	copy = strndup((const char *)data, size);
	if (copy == NULL)
		abort();
	if (frame_cursor_valid(copy)) {
		size_t n = strlen(copy);

		FUZZ_CHECK(n >= 1 && n <= FRAME_CURSOR_MAX &&
		    strspn(copy, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n,
		    "cursor %s", copy);
	}
	free(copy);
	return 0;
}
