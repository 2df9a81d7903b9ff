/*
 * session — one browser's event stream (see session.h for the modes and
 * ownership): its position, its own leg, joining and leaving the feed.
 * The browser side (upgrade, writes, the protocol callback) is
 * browser.c.
 */
#include "session.h"
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "ids.h"
#include "leg.h"
#include "metrics.h"
#include "proxy.h"
#include "sendq.h"
#include "wlog.h"
#include "xalloc.h"

/* Own legs open at once, process-wide. A browser opening a stream needs
 * one for its snapshot, briefly: 10,000 browsers arriving together would
 * otherwise hold 20,000 sockets (and make the runtime accept 10,000 at
 * once). The others wait their turn (FIFO). */
#define SESSION_OWN_LEGS_MAX 256

static void session_drop_leg(struct session *s);
static void session_release_slot(struct proxy *p);

lws_dll2_t *
session_feed_node(struct session *s)
{
	return &s->feed_node;
}

struct session *
session_of_feed_node(lws_dll2_t *d)
{
	return lws_container_of(d, struct session, feed_node);
}

struct session *
session_of_list_node(lws_dll2_t *d)
{
	return lws_container_of(d, struct session, list);
}

void
session_set_position(struct session *s, const char *cursor)
{
	snprintf(s->cursor, sizeof(s->cursor), "%s",
	    cursor != NULL ? cursor : "");
	s->have_seq = frame_cursor_seq(s->cursor, &s->seq);
}

/* Frames were queued: they are written at the end of this turn of the
 * loop (session_flush, from proxy.c's uv_check), all that arrived in the
 * turn in one write, straight to the socket. Waiting for POLLOUT instead
 * cost a turn of the loop and, under lws' libuv event lib, epoll_ctl
 * calls for every browser and event: each lws_callback_on_writable
 * restarts the socket's uv_poll (libuv drops the fd from epoll and adds
 * it back), and lws clears POLLOUT again after the callback
 * (docs/bench.md). A socket that is full waits for POLLOUT as before. */
void
session_writable(struct session *s)
{
	if (s->browser == NULL || s->write_asked ||
	    s->flush_node.owner != NULL)
		return;
	lws_dll2_add_tail(&s->flush_node, &s->p->flush);
}

/* Asks lws for a writable callback, once until it comes (see above).
 * lws keeps the request across its own partial sends, pings and pongs,
 * so it is not lost. */
void
session_want_pollout(struct session *s)
{
	if (s->browser != NULL && !s->write_asked) {
		s->write_asked = true;
		lws_callback_on_writable(s->browser);
	}
}

static void
session_leave_feed(struct session *s)
{
	if (s->feed != NULL)
		feed_leave(s->feed, s);
	s->feed = NULL;
}

/* Sends diagnostic d as the last frame and closes the browser with code
 * once the queue drained; the upstream is ended for good. With clear, the
 * queued frames are discarded first (slow consumer). */
void
session_finish(struct session *s, enum frame_diag d, int code, bool clear)
{
	char *json;
	size_t len;

	if (s->closing)
		return;
	session_leave_feed(s);
	session_drop_leg(s);
	if (clear)
		sendq_clear(s->q);
	json = frame_diag_json(d, &len);
	sendq_push(s->q, json, len, 1);
	free(json);
	s->closing = code;
	if (s->browser != NULL) {
		lws_set_timeout(s->browser, PENDING_TIMEOUT_USER_OK,
		    SESSION_CLOSE_GRACE_S);
		session_writable(s);
	}
}

static void
session_send_diag(struct session *s, enum frame_diag d)
{
	char *json;
	size_t len;

	if (s->closing)
		return;
	json = frame_diag_json(d, &len);
	if (sendq_push(s->q, json, len, 0) == SENDQ_OK)
		session_writable(s);
	free(json);
}

/* ---- joining the feed ---------------------------------------------- */

/* Moves s onto its worker's feed when its position allows: it then needs
 * no connection of its own. */
static void
session_try_join(struct session *s)
{
	struct leg *mine;
	struct feed *f;

	if (s->closing || s->feed != NULL || s->behind || s->no_share ||
	    !s->have_state || !s->cursor[0])
		return;
	if (!s->have_seq) {
		s->no_share = true;
		return;
	}
	mine = s->leg;
	/* A browser that fell behind starts no feed from its position
	 * alone: the feed's upstream would hear that the position expired
	 * as a resync of the feed, and the browser would go on from a fresh
	 * snapshot past a gap of its own making (wsproxy.sh's slow consumer
	 * got backend.resynced and 10,000 events fewer). Its own leg checks
	 * the position first: expired, it is cut; alive, the leg becomes
	 * the feed's once it delivered (session_on_leg_event). */
	f = feed_get(s->p->feeds, s->runtime_id, s->worker_id,
	    s->worker_id_len, s->cursor, s->seq, &mine,
	    !s->fell_behind || mine != NULL);
	if (f == NULL)
		return;
	if (s->leg != NULL && mine == NULL) {
		/* The new feed took over our leg: its slot is free. */
		s->leg = NULL;
		session_release_slot(s->p);
	}
	wlog(WLOG_DEBUG, s->id, s->runtime_id, "joining the shared upstream "
	    "at %s (%zu bytes queued)", s->cursor, sendq_bytes(s->q));
	session_drop_leg(s);
	s->feed = f;
	feed_join(f, s, s->seq);
}

static const struct leg_ops session_leg_ops;


/* An own leg ended or was handed over: its slot goes to the next
 * session waiting for one. */
static void
session_release_slot(struct proxy *p)
{
	struct session *next;

	if (p->own_legs)
		p->own_legs--;
	while (p->own_legs < SESSION_OWN_LEGS_MAX &&
	    p->leg_wait.head != NULL) {
		next = lws_container_of(p->leg_wait.head, struct session,
		    wait_node);
		lws_dll2_remove(&next->wait_node);
		session_start_leg(next);
	}
}

/* Ends the own leg, if any, and frees its slot; a session waiting for a
 * slot stops waiting. */
static void
session_drop_leg(struct session *s)
{
	if (s->wait_node.owner != NULL)
		lws_dll2_remove(&s->wait_node);
	if (s->leg == NULL)
		return;
	leg_free(s->leg);
	s->leg = NULL;
	session_release_slot(s->p);
}

/* Starts an own leg from the position, now or when a slot frees. */
void
session_start_leg(struct session *s)
{
	struct leg_params lp;

	if (s->closing || s->leg != NULL || s->wait_node.owner != NULL)
		return;
	if (s->p->own_legs >= SESSION_OWN_LEGS_MAX) {
		lws_dll2_add_tail(&s->wait_node, &s->p->leg_wait);
		return;
	}

	memset(&lp, 0, sizeof(lp));
	lp.p = s->p;
	lp.log_id = s->id;
	lp.runtime_id = s->runtime_id;
	lp.worker_id = s->worker_id;
	lp.worker_id_len = s->worker_id_len;
	lp.cursor = s->cursor[0] ? s->cursor : NULL;
	lp.have_state = s->have_state;
	lp.quiet = true;
	lp.ops = &session_leg_ops;
	lp.owner = s;
	s->leg = leg_new(&lp);
	if (s->leg != NULL)
		s->p->own_legs++;
	if (s->leg == NULL) {
		wlog(WLOG_INFO, s->id, s->runtime_id, "runtime no longer "
		    "configured: stream ended");
		session_finish(s, FRAME_DIAG_RUNTIME_NOT_FOUND,
		    LWS_CLOSE_STATUS_NORMAL, false);
		return;
	}
	leg_start(s->leg);
}

/* The browser read enough of its queue: back to the feed from its ring,
 * or catch up on an own leg first. */
void
session_catch_up(struct session *s)
{
	s->behind = false;
	session_try_join(s);
	/* Joining may have filled the queue again (the ring's frames): then
	 * it is behind once more, and an own leg would have nowhere to put
	 * its events. Behind never has a leg. */
	if (!s->behind && s->feed == NULL && s->leg == NULL &&
	    s->wait_node.owner == NULL && !s->closing) {
		wlog(WLOG_DEBUG, s->id, s->runtime_id, "catching up from the "
		    "runtime");
		session_start_leg(s);
	}
}

/* Queue full: stop taking frames; catch up once the browser has read. */
static void
session_fall_behind(struct session *s)
{
	wlog(WLOG_INFO, s->id, s->runtime_id, "browser send queue full "
	    "(%zu bytes queued): it catches up when it has read them",
	    sendq_bytes(s->q));
	s->behind = true;
	s->fell_behind = true;
	session_drop_leg(s);
}

/* ---- frames from the feed ------------------------------------------ */

bool
session_take_frame(struct session *s, struct sframe *fr)
{
	if (s->closing)
		return true;
	if (s->have_seq && fr->seq <= s->seq)
		return true;
	if (sendq_push_frame(s->q, fr) != SENDQ_OK) {
		s->feed = NULL;		/* the feed unlinks us */
		session_fall_behind(s);
		return false;
	}
	memcpy(s->cursor, fr->cursor, strlen(fr->cursor) + 1);
	s->seq = fr->seq;
	s->have_seq = true;
	session_writable(s);
	return true;
}

void
session_take_snapshot(struct session *s, struct sframe *fr)
{
	if (s->closing)
		return;
	if (sendq_push_frame(s->q, fr) != SENDQ_OK) {
		s->feed = NULL;
		lws_dll2_remove(&s->feed_node);
		session_fall_behind(s);
		/* Its position is gone with the runtime's: a fresh start. */
		s->have_state = false;
		s->cursor[0] = '\0';
		s->have_seq = false;
		return;
	}
	session_set_position(s, fr->cursor);
	session_writable(s);
}

void
session_feed_diag(struct session *s, enum frame_diag d)
{
	session_send_diag(s, d);
}

void
session_feed_finish(struct session *s, enum frame_diag d, int code)
{
	s->feed = NULL;
	session_finish(s, d, code, false);
}

void
session_feed_broken(struct session *s)
{
	s->feed = NULL;
	s->no_share = true;
	if (!s->closing && !s->behind)
		session_start_leg(s);
}

/* ---- frames from the own leg --------------------------------------- */

static void
session_on_leg_event(void *owner, struct sframe *fr, bool snapshot)
{
	struct session *s = owner;
	size_t cap = sendq_cap(s->q);

	if (s->closing) {
		sframe_unref(fr);
		return;
	}
	/* The own leg is paused at half the cap, but lws still hands over
	 * what it had read (a read or two): those frames may go past the
	 * cap, up to twice it; past that the leg did not stop at all. */
	if (sendq_push_frame_limit(s->q, fr, cap * 2) != SENDQ_OK) {
		sframe_unref(fr);
		if (!s->have_state) {
			/* Not even the snapshot fits: the browser never
			 * read anything. */
			wsm_slow_consumer(s->p->metrics);
			session_finish(s, FRAME_DIAG_SLOW_CONSUMER,
			    LWS_CLOSE_STATUS_POLICY_VIOLATION, true);
			return;
		}
		session_fall_behind(s);
		return;
	}
	if (snapshot) {
		s->have_state = true;
		/* A snapshot is taken at its cursor: resuming from there
		 * misses nothing when we had no position of our own. With
		 * one, the backlog after it is still to come. */
		if (!s->cursor[0])
			session_set_position(s, fr->cursor);
	} else {
		session_set_position(s, fr->cursor);
	}
	sframe_unref(fr);
	session_writable(s);
	if (sendq_bytes(s->q) > cap / 2 && s->leg != NULL) {
		wlog(WLOG_DEBUG, s->id, s->runtime_id, "pausing the own leg at "
		    "%zu queued bytes", sendq_bytes(s->q));
		leg_pause(s->leg, true);
	}
	session_try_join(s);
}

static void
session_on_leg_diag(void *owner, enum frame_diag d)
{
	struct session *s = owner;

	if (d == FRAME_DIAG_RESYNCED) {
		if (s->fell_behind) {
			/* It fell behind and the runtime no longer has its
			 * position: it cannot catch up. */
			wlog(WLOG_WARN, s->id, s->runtime_id, "slow consumer: "
			    "its position expired at the runtime");
			wsm_slow_consumer(s->p->metrics);
			session_finish(s, FRAME_DIAG_SLOW_CONSUMER,
			    LWS_CLOSE_STATUS_POLICY_VIOLATION, true);
			return;
		}
		s->cursor[0] = '\0';
		s->have_seq = false;
	}
	session_send_diag(s, d);
}

static void
session_on_leg_finish(void *owner, enum frame_diag d, int code)
{
	struct session *s = owner;

	session_finish(s, d, code, false);
}

static const struct leg_ops session_leg_ops = {
	session_on_leg_event, session_on_leg_diag, session_on_leg_finish
};

/* ---- lifetime ------------------------------------------------------ */

size_t
session_queued_bytes(const struct session *s)
{
	return sendq_bytes(s->q);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_leave_feed(s);
	session_drop_leg(s);
	lws_dll2_remove(&s->list);
	lws_dll2_remove(&s->flush_node);
	lws_dll2_remove(&s->progress_node);
	sendq_free(s->q);
	free(s);
}

void
session_abandon(struct session *s)
{
	/* No slot hand-over now: nothing may connect during teardown. */
	if (s->wait_node.owner != NULL)
		lws_dll2_remove(&s->wait_node);
	leg_abandon(s->leg);
	leg_free(s->leg);
	s->leg = NULL;
	s->feed = NULL;		/* the feeds go with the set */
	s->browser = NULL;
	lws_dll2_remove(&s->flush_node);
	lws_dll2_remove(&s->progress_node);
}

void
session_shutdown(struct session *s)
{
	session_finish(s, FRAME_DIAG_SHUTTING_DOWN, LWS_CLOSE_STATUS_GOINGAWAY,
	    false);
}

