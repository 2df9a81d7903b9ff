/*
 * session_int — what session.c and browser.c share: the session itself
 * and the steps both halves take. Not for other modules (session.h).
 */
#ifndef WRG_WSPROXY_SESSION_INT_H
#define WRG_WSPROXY_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "frame.h"
#include "ids.h"

/* How long a browser that is being closed may go without reading before
 * it is dropped (re-armed whenever it read: a slow reader still gets its
 * last frames and the close). nginx's send_timeout is as long. */
#define SESSION_CLOSE_GRACE_S 60

struct feed;
struct leg;
struct proxy;
struct sendq;

struct session {
	lws_dll2_t list;		/* p->sessions */
	lws_dll2_t feed_node;		/* feed->subs, while on a feed */
	lws_dll2_t wait_node;		/* p->leg_wait, waiting for a leg */
	struct proxy *p;
	char id[IDS_REQUEST_ID_MAX + 1];	/* for logs */
	char runtime_id[IDS_RUNTIME_ID_MAX + 1];
	char worker_id[IDS_WORKER_ID_MAX + 1];
	size_t worker_id_len;
	struct lws *browser;
	struct sendq *q;
	struct feed *feed;		/* live on it, or NULL */
	struct leg *leg;		/* own leg, or NULL */
	/* The position: the cursor of the last event queued (or the
	 * browser's own, or the first snapshot's). */
	char cursor[FRAME_CURSOR_MAX + 1];	/* "" = none */
	uint64_t seq;
	bool have_seq;		/* cursor is an ordered one */
	bool have_state;	/* a snapshot was queued */
	bool no_share;		/* unordered cursors: own leg for good */
	bool behind;		/* left the feed full: catch up when drained */
	bool fell_behind;	/* has been behind: expiry means cut */
	lws_dll2_t flush_node;	/* on p->flush */
	bool write_asked;	/* a writable callback is on its way */
	/* The progress check (alive.c): on p->progress while bytes
	 * written to the browser are not consumed; what was not consumed at
	 * the last look, what was written since; when the browser last
	 * proved alive to lws (opened, a pong, a confirmation). */
	lws_dll2_t progress_node;
	int outq;
	size_t wrote;
	lws_usec_t answered;
	int unsent;		/* closing: bytes the browser had not read */
	int closing;		/* close code once the queue drained */
	/* The close frame is asked for: until then (lws_now_usecs) the
	 * wait for the browser's answer is stretched (browser.c). 0: not
	 * yet. */
	lws_usec_t close_ack_until;
};

/* The position becomes cursor ("" or NULL: none). */
void session_set_position(struct session *s, const char *cursor);
/* Frames were queued: written at the end of this turn of the loop
 * (session_flush). */
void session_writable(struct session *s);
/* The socket is full: asks lws for a writable callback, once. */
void session_want_pollout(struct session *s);
/* Sends d as the last frame, closes with code once the queue drained;
 * the upstream side ends for good. clear: drop what is queued first. */
void session_finish(struct session *s, enum frame_diag d, int code,
    bool clear);
/* Starts an own leg from the position (now or when a slot frees). */
void session_start_leg(struct session *s);
/* The browser read most of its queue: rejoin the feed or catch up. */
void session_catch_up(struct session *s);

#endif
