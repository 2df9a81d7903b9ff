/*
 * frame — runtime frame parsing, browser frame building and the one table
 * of browser-visible diagnostics (see frame.h).
 */
#include "frame.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ids.h"
#include "wjson.h"
#include "xalloc.h"

static const struct {
	const char *code;
	const char *message;
} frame_diags[FRAME_DIAG_COUNT] = {
	[FRAME_DIAG_RUNTIME_NOT_FOUND] = { "backend.runtime_not_found",
	    "No runtime with this id is configured." },
	[FRAME_DIAG_WORKER_NOT_FOUND] = { "backend.worker_not_found",
	    "The runtime has no worker with this id." },
	[FRAME_DIAG_RUNTIME_UNAVAILABLE] = { "backend.runtime_unavailable",
	    "The runtime cannot serve this event stream." },
	[FRAME_DIAG_CURSOR_MALFORMED] = { "backend.cursor_malformed",
	    "The cursor is not valid." },
	[FRAME_DIAG_CURSOR_UNKNOWN_OR_EXPIRED] = {
	    "backend.cursor_unknown_or_expired",
	    "The runtime no longer has the events after this cursor." },
	[FRAME_DIAG_UPSTREAM_RECONNECTING] = {
	    "backend.upstream_reconnecting",
	    "The connection to the runtime was lost; reconnecting. "
	    "The stream continues." },
	[FRAME_DIAG_RESYNCED] = { "backend.resynced",
	    "The events after the cursor are no longer available; "
	    "a fresh snapshot follows." },
	[FRAME_DIAG_OBSERVATION_ONLY] = { "backend.observation_only",
	    "This socket is observation-only; messages from the client "
	    "are not accepted." },
	[FRAME_DIAG_SLOW_CONSUMER] = { "backend.slow_consumer",
	    "The client did not read events fast enough and was "
	    "disconnected." },
	[FRAME_DIAG_SHUTTING_DOWN] = { "backend.shutting_down",
	    "The gateway is shutting down." },
};

static const char *const frame_errs[] = {
	[FRAME_OK] = "ok",
	[FRAME_ERR_JSON] = "runtime frame is not a JSON object",
	[FRAME_ERR_SHAPE] = "runtime frame is neither an event nor a "
	    "diagnostic",
};

const char *
frame_strerror(enum frame_err e)
{
	if ((size_t)e >= sizeof(frame_errs) / sizeof(frame_errs[0]))
		return "unknown frame error";
	return frame_errs[e];
}

const char *
frame_diag_code(enum frame_diag d)
{
	if ((unsigned)d >= FRAME_DIAG_COUNT)
		d = FRAME_DIAG_RUNTIME_UNAVAILABLE;
	return frame_diags[d].code;
}

const char *
frame_diag_message(enum frame_diag d)
{
	if ((unsigned)d >= FRAME_DIAG_COUNT)
		d = FRAME_DIAG_RUNTIME_UNAVAILABLE;
	return frame_diags[d].message;
}

/* Serializes obj compactly into a fresh NUL-ended copy. */
static char *
frame_dump(struct json_object *obj, size_t *len)
{
	const char *s = wjson_str(obj, len);
	char *copy = xmalloc(*len + 1);

	memcpy(copy, s, *len);
	copy[*len] = '\0';
	return copy;
}

char *
frame_diag_json(enum frame_diag d, size_t *len)
{
	struct json_object *root = json_object_new_object();
	struct json_object *diag = json_object_new_object();
	char *out;

	json_object_object_add(diag, "code",
	    json_object_new_string(frame_diag_code(d)));
	json_object_object_add(diag, "message",
	    json_object_new_string(frame_diag_message(d)));
	json_object_object_add(root, "kind",
	    json_object_new_string("diagnostic"));
	json_object_object_add(root, "diagnostic", diag);
	out = frame_dump(root, len);
	json_object_put(root);
	return out;
}

static const struct {
	const char *code;
	enum frame_action action;
	enum frame_diag diag;
} frame_runtime_map[] = {
	{ "runtime.cursor_malformed", FRAME_ACT_CLOSE,
	    FRAME_DIAG_CURSOR_MALFORMED },
	{ "runtime.worker_not_found", FRAME_ACT_CLOSE,
	    FRAME_DIAG_WORKER_NOT_FOUND },
	{ "runtime.cursor_unknown_or_expired", FRAME_ACT_RESYNC,
	    FRAME_DIAG_RESYNCED },
	/* The runtime could not keep up with us: our cursor is still good,
	 * so resume from it like any other drop. */
	{ "runtime.cursor_expired", FRAME_ACT_RECONNECT,
	    FRAME_DIAG_UPSTREAM_RECONNECTING },
	{ "runtime.upstream_closed", FRAME_ACT_RECONNECT,
	    FRAME_DIAG_UPSTREAM_RECONNECTING },
	{ "runtime.unavailable", FRAME_ACT_RECONNECT,
	    FRAME_DIAG_UPSTREAM_RECONNECTING },
	{ "runtime.websocket_error", FRAME_ACT_RECONNECT,
	    FRAME_DIAG_UPSTREAM_RECONNECTING },
	{ "runtime.serialize_failed", FRAME_ACT_RECONNECT,
	    FRAME_DIAG_UPSTREAM_RECONNECTING },
	/* We never send data frames; if the runtime thinks we did, the
	 * stream cannot be trusted to continue. */
	{ "runtime.observation_only", FRAME_ACT_CLOSE,
	    FRAME_DIAG_RUNTIME_UNAVAILABLE },
};

enum frame_action
frame_map_runtime_diag(const char *code, enum frame_diag *diag)
{
	size_t i;

	for (i = 0; i < sizeof(frame_runtime_map) /
	    sizeof(frame_runtime_map[0]); i++) {
		if (code != NULL &&
		    strcmp(code, frame_runtime_map[i].code) == 0) {
			*diag = frame_runtime_map[i].diag;
			return frame_runtime_map[i].action;
		}
	}
	*diag = FRAME_DIAG_UPSTREAM_RECONNECTING;
	return FRAME_ACT_RECONNECT;
}

bool
frame_cursor_valid(const char *s)
{
	return ids_chars_valid(s, FRAME_CURSOR_MAX, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-.:");
}

bool
frame_cursor_seq(const char *s, uint64_t *seq)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || strncmp(s, "wo_", 3) != 0 || strlen(s) != 19)
		return false;
	for (i = 3; i < 19; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*seq = v;
	return true;
}

/* A string member of at most FRAME_CURSOR_MAX bytes, else NULL. */
static const char *
frame_short_string(struct json_object *obj, const char *key)
{
	const char *s = wjson_get_string(obj, key);

	if (s == NULL || !*s || strlen(s) > FRAME_CURSOR_MAX)
		return NULL;
	return s;
}

/* Drops every member of obj whose name is not in keep[0..n). */
static void
frame_keep_only(struct json_object *obj, const char *const *keep, size_t n)
{
	json_object_object_foreach(obj, key, val) {
		size_t i;

		(void)val;
		for (i = 0; i < n && strcmp(key, keep[i]) != 0; i++)
			;
		if (i == n)	/* safe: the loop already holds the next */
			json_object_object_del(obj, key);
	}
}

/* The browser frame is the runtime's, rewritten where it lies: members
 * outside the browser API dropped and runtime_id made the registry id.
 * Building a new tree and serializing that cost a third of the proxy's
 * time per event with one browser (docs/bench.md). */
static enum frame_err
frame_parse_event(struct json_object *root, const char *runtime_id,
    struct frame_in *in)
{
	static const char *const root_keys[] = { "kind", "envelope" };
	static const char *const env_keys[] = { "cursor", "event_id",
	    "runtime_id", "worker_id", "payload" };
	struct json_object *env, *payload;
	const char *cursor, *event_id, *worker_id, *ev;
	size_t wlen;

	if (!json_object_object_get_ex(root, "envelope", &env) ||
	    !json_object_is_type(env, json_type_object))
		return FRAME_ERR_SHAPE;
	cursor = frame_short_string(env, "cursor");
	event_id = frame_short_string(env, "event_id");
	worker_id = wjson_get_string(env, "worker_id");
	/* A cursor the browser could not send back (?cursor= accepts only
	 * frame_cursor_valid ones) would break resume: not an event. */
	if (cursor == NULL || !frame_cursor_valid(cursor) ||
	    event_id == NULL || worker_id == NULL || !*worker_id ||
	    (wlen = strlen(worker_id)) >= sizeof(in->worker_id))
		return FRAME_ERR_SHAPE;
	if (!json_object_object_get_ex(env, "payload", &payload))
		return FRAME_ERR_SHAPE;

	in->kind = FRAME_EVENT;
	memcpy(in->cursor, cursor, strlen(cursor) + 1);	/* <= MAX */
	memcpy(in->worker_id, worker_id, wlen + 1);
	ev = json_object_is_type(payload, json_type_object) ?
	    wjson_get_string(payload, "event") : NULL;
	in->snapshot = strncmp(event_id, "snapshot:", 9) == 0 ||
	    (ev != NULL && strcmp(ev, "snapshot") == 0);

	frame_keep_only(env, env_keys, sizeof(env_keys) / sizeof(*env_keys));
	json_object_object_add(env, "runtime_id",
	    json_object_new_string(runtime_id));
	frame_keep_only(root, root_keys,
	    sizeof(root_keys) / sizeof(*root_keys));
	in->root = json_object_get(root);
	in->out = wjson_str(root, &in->out_len);
	return FRAME_OK;
}

static enum frame_err
frame_parse_diag(struct json_object *root, struct frame_in *in)
{
	struct json_object *d;
	const char *code;
	size_t i;

	if (!json_object_object_get_ex(root, "diagnostic", &d) ||
	    !json_object_is_type(d, json_type_object))
		return FRAME_ERR_SHAPE;
	code = wjson_get_string(d, "code");
	if (code == NULL)
		return FRAME_ERR_SHAPE;
	in->kind = FRAME_DIAGNOSTIC;
	in->action = frame_map_runtime_diag(code, &in->diag);
	/* For the operator log: a contract code, else "unknown" (a hostile
	 * runtime's text, the token for one, is never logged). */
	snprintf(in->runtime_code, sizeof(in->runtime_code), "unknown");
	for (i = 0; i < sizeof(frame_runtime_map) /
	    sizeof(frame_runtime_map[0]); i++)
		if (strcmp(code, frame_runtime_map[i].code) == 0)
			snprintf(in->runtime_code, sizeof(in->runtime_code),
			    "%s", code);
	return FRAME_OK;
}

enum frame_err
frame_parse(const char *buf, size_t len, const char *runtime_id,
    struct frame_in *in)
{
	return frame_parse_with(NULL, buf, len, runtime_id, in);
}

enum frame_err
frame_parse_with(struct json_tokener *tok, const char *buf, size_t len,
    const char *runtime_id, struct frame_in *in)
{
	struct json_object *root;
	const char *kind;
	enum frame_err err;

	memset(in, 0, sizeof(*in));
	root = tok != NULL ? wjson_parse_with(tok, buf, len) :
	    wjson_parse(buf, len, WJSON_MAX_DEPTH);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		err = FRAME_ERR_JSON;
		goto out;
	}
	kind = wjson_get_string(root, "kind");
	if (kind != NULL && strcmp(kind, "event") == 0)
		err = frame_parse_event(root, runtime_id, in);
	else if (kind != NULL && strcmp(kind, "diagnostic") == 0)
		err = frame_parse_diag(root, in);
	else
		err = FRAME_ERR_SHAPE;
out:
	json_object_put(root);
	if (err != FRAME_OK)
		frame_in_clear(in);
	return err;
}

void
frame_in_clear(struct frame_in *in)
{
	json_object_put(in->root);
	memset(in, 0, sizeof(*in));
}
