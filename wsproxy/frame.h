/*
 * frame — what wrg-wsproxy says to browsers and how it reads the runtime.
 * Pure functions, no sockets: classify one runtime text frame (event or
 * diagnostic), re-wrap an event for the browser (registry runtime_id
 * added, payload unchanged), map runtime diagnostic codes to what the
 * proxy does, and build every browser-visible diagnostic from one fixed
 * table. No runtime-supplied text ever reaches a browser except the event
 * payload, cursor, event_id and worker_id.
 */
#ifndef WRG_WSPROXY_FRAME_H
#define WRG_WSPROXY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ids.h"

struct json_object;
struct json_tokener;

/* Longest cursor or event id the proxy keeps or forwards. */
#define FRAME_CURSOR_MAX 128

/* Every diagnostic a browser can receive; code and message come from the
 * table in frame.c only. */
enum frame_diag {
	FRAME_DIAG_RUNTIME_NOT_FOUND = 0,
	FRAME_DIAG_WORKER_NOT_FOUND,
	FRAME_DIAG_RUNTIME_UNAVAILABLE,
	FRAME_DIAG_CURSOR_MALFORMED,
	FRAME_DIAG_CURSOR_UNKNOWN_OR_EXPIRED,
	FRAME_DIAG_UPSTREAM_RECONNECTING,
	FRAME_DIAG_RESYNCED,
	FRAME_DIAG_OBSERVATION_ONLY,
	FRAME_DIAG_SLOW_CONSUMER,
	FRAME_DIAG_SHUTTING_DOWN,
	FRAME_DIAG_COUNT
};

/* What the proxy does about a runtime diagnostic. */
enum frame_action {
	FRAME_ACT_RECONNECT = 0,	/* transient: reconnect with the cursor */
	FRAME_ACT_RESYNC,		/* cursor gone: reconnect without one */
	FRAME_ACT_CLOSE			/* final: send *diag, close the browser */
};

enum frame_err {
	FRAME_OK = 0,
	FRAME_ERR_JSON,		/* not one strict JSON object */
	FRAME_ERR_SHAPE		/* JSON, but not an event or a diagnostic */
};

enum frame_kind {
	FRAME_EVENT = 1,
	FRAME_DIAGNOSTIC
};

/* One parsed runtime frame. */
struct frame_in {
	enum frame_kind kind;
	/* FRAME_EVENT: the browser frame (NUL-ended; it lives in root,
	 * released by frame_in_clear), its length, the envelope cursor, and
	 * whether it is a snapshot. */
	const char *out;
	size_t out_len;
	struct json_object *root;
	char cursor[FRAME_CURSOR_MAX + 1];
	char worker_id[IDS_WORKER_ID_MAX + 1];	/* the envelope's */
	bool snapshot;
	/* FRAME_DIAGNOSTIC: what to do, and for FRAME_ACT_CLOSE which
	 * browser diagnostic to send. runtime_code is the runtime's code if
	 * the contract knows it, else "unknown" (for operator logs). */
	enum frame_action action;
	enum frame_diag diag;
	char runtime_code[64];
};

/* Parses one complete runtime text frame buf[0..len) and, for an event,
 * builds the browser frame with runtime_id (the registry id) put in the
 * envelope. On FRAME_OK fills *in (the caller calls frame_in_clear);
 * on error *in holds nothing to release. */
enum frame_err frame_parse(const char *buf, size_t len,
    const char *runtime_id, struct frame_in *in);

/* frame_parse with tok (wjson_tokener_new(WJSON_MAX_DEPTH)), kept by a
 * stream for all its frames; NULL: a tokener of its own. */
enum frame_err frame_parse_with(struct json_tokener *tok, const char *buf,
    size_t len, const char *runtime_id, struct frame_in *in);

/* Releases what frame_parse left in *in (in->out with it); idempotent. */
void frame_in_clear(struct frame_in *in);

/* The browser diagnostic frame for d, as a new NUL-ended string owned by
 * the caller (free()); *len gets its length. */
char *frame_diag_json(enum frame_diag d, size_t *len);

/* The fixed code ("backend.slow_consumer") and message of d. */
const char *frame_diag_code(enum frame_diag d);
const char *frame_diag_message(enum frame_diag d);

/* Maps a runtime diagnostic code to the proxy's action; for
 * FRAME_ACT_CLOSE sets *diag. Unknown codes are transient. */
enum frame_action frame_map_runtime_diag(const char *code,
    enum frame_diag *diag);

/* Whether a cursor from a browser is acceptable to pass on: 1..128 bytes
 * of [A-Za-z0-9._:-]. The runtime still decides if it knows it. */
bool frame_cursor_valid(const char *s);

/* The order of a runtime cursor: the contract spells cursors "wo_" + 16
 * lower-case hex digits of a per-runtime sequence number, so a later
 * event has a larger number. false (and no sharing of that stream) for
 * any other spelling: only ordered cursors let a browser join a shared
 * upstream at the right place. */
bool frame_cursor_seq(const char *cursor, uint64_t *seq);

const char *frame_strerror(enum frame_err e);

#endif
