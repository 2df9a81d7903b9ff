/*
 * srt_ws — the observation-socket client of sample_runtime_test's harness:
 * one lws client context, sockets that collect every text frame they
 * receive, and readers for the frames the sample runtime sends (snapshot,
 * events, diagnostics). Every wait is bounded by a timeout.
 */
#ifndef SRT_WS_H
#define SRT_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "srt_harness.h"

#define SRT_MAX_FRAMES 20000

/* The client context, made by srt_init() and freed by srt_finish(). */
bool srt_ws_init(void);
void srt_ws_finish(void);

enum srt_ws_state {
	SRT_WS_CONNECTING, SRT_WS_OPEN, SRT_WS_FAILED, SRT_WS_CLOSED
};

struct srt_ws {
	struct lws *wsi;
	enum srt_ws_state state;
	const char *token;
	char *frames[SRT_MAX_FRAMES];	/* owned, NUL-terminated */
	size_t n_frames;
	char *rx;
	size_t rx_len;
	int close_code;			/* 0: no close frame seen */
	int pongs;
	char *to_send;
	bool want_ping;
	bool want_close;
};

/* Opens path (with query) on rt with "Bearer token" (NULL: none); waits
 * ≤5 s for OPEN or failure. The caller owns the result (srt_ws_free). */
struct srt_ws *srt_ws_open(struct srt_rt *rt, const char *path,
    const char *token);
/* Waits until at least n frames arrived (or closed / timeout). */
size_t srt_ws_wait(struct srt_ws *c, size_t n, long timeout_ms);
/* Waits ≤timeout for the socket to be closed; true once it is. */
bool srt_ws_wait_closed(struct srt_ws *c, long timeout_ms);
void srt_ws_send(struct srt_ws *c, const char *text);
void srt_ws_ping(struct srt_ws *c);
/* Closes (≤3 s) and frees; NULL is a no-op. */
void srt_ws_free(struct srt_ws *c);
/* Services the lws context for ms milliseconds no matter what arrives. */
void srt_service_for(long ms);

/* Frame i parsed (new reference) or NULL. */
struct json_object *srt_frame(struct srt_ws *c, size_t i);
/* Frame i is a diagnostic with this code (and a message). */
bool srt_frame_is_diag(struct srt_ws *c, size_t i, const char *code);
/* Frame i is the snapshot of worker_id (event_id "snapshot:<cursor>"). */
bool srt_frame_is_snapshot(struct srt_ws *c, size_t i,
    const char *worker_id);
/* Event frame i: its sequence number (cursor == event_id), else -1;
 * payload.event is copied into ev when ev is non-NULL. */
int64_t srt_frame_event(struct srt_ws *c, size_t i, char *ev, size_t evlen);
/* srt_ws_open on worker_id's observation socket resuming after event
 * seq: ?cursor= is seq spelled as the contract's cursor "wo_<16 hex>". */
struct srt_ws *srt_ws_resume(struct srt_rt *rt, const char *worker_id,
    int64_t seq, const char *token);

#endif
