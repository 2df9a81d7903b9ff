/*
 * session — one browser's event stream (see session.h for the modes and
 * ownership), and the browser side of the protocol: upgrade checks,
 * writes, closes.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "feed.h"
#include "front.h"
#include "ids.h"
#include "leg.h"
#include "metrics.h"
#include "proxy.h"
#include "reload.h"
#include "route.h"
#include "sendq.h"
#include "upgrade.h"
#include "wlog.h"
#include "xalloc.h"

/* How long a browser that is being closed may take to read its last
 * frames. */
#define SESSION_CLOSE_GRACE_S 10
/* Own legs open at once, process-wide. A browser opening a stream needs
 * one for its snapshot, briefly: 10,000 browsers arriving together would
 * otherwise hold 20,000 sockets (and make the runtime accept 10,000 at
 * once). The others wait their turn (FIFO). */
#define SESSION_OWN_LEGS_MAX 256
/* Most frames written in one writable callback (see session_write). */
#define SESSION_WRITE_BATCH 64

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
	int closing;		/* close code once the queue drained */
};

struct browser_pss {
	struct session *s;
};

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

static void
session_set_position(struct session *s, const char *cursor)
{
	snprintf(s->cursor, sizeof(s->cursor), "%s", cursor ? cursor : "");
	s->have_seq = frame_cursor_seq(s->cursor, &s->seq);
}

static void
session_writable(struct session *s)
{
	if (s->browser)
		lws_callback_on_writable(s->browser);
}

static void
session_leave_feed(struct session *s)
{
	if (s->feed)
		feed_leave(s->feed, s);
	s->feed = NULL;
}

/* Sends diagnostic d as the last frame and closes the browser with code
 * once the queue drained; the upstream is ended for good. With clear, the
 * queued frames are discarded first (slow consumer). */
static void
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
	if (s->browser) {
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

	if (s->closing || s->feed || s->behind || s->no_share ||
	    !s->have_state || !s->cursor[0])
		return;
	if (!s->have_seq) {
		s->no_share = true;
		return;
	}
	mine = s->leg;
	f = feed_get(s->p->feeds, s->runtime_id, s->worker_id,
	    s->worker_id_len, s->cursor, s->seq, &mine);
	if (!f)
		return;
	if (s->leg && !mine) {
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
static void session_start_leg(struct session *s);


/* An own leg ended or was handed over: its slot goes to the next
 * session waiting for one. */
static void
session_release_slot(struct proxy *p)
{
	struct session *next;

	if (p->own_legs)
		p->own_legs--;
	while (p->own_legs < SESSION_OWN_LEGS_MAX && p->leg_wait.head) {
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
	if (s->wait_node.owner)
		lws_dll2_remove(&s->wait_node);
	if (!s->leg)
		return;
	leg_free(s->leg);
	s->leg = NULL;
	session_release_slot(s->p);
}

/* Starts an own leg from the position, now or when a slot frees. */
static void
session_start_leg(struct session *s)
{
	struct leg_params lp;

	if (s->closing || s->leg || s->wait_node.owner)
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
	if (s->leg)
		s->p->own_legs++;
	if (!s->leg) {
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
static void
session_catch_up(struct session *s)
{
	s->behind = false;
	session_try_join(s);
	/* Joining may have filled the queue again (the ring's frames): then
	 * it is behind once more, and an own leg would have nowhere to put
	 * its events. Behind never has a leg. */
	if (!s->behind && !s->feed && !s->leg && !s->wait_node.owner &&
	    !s->closing) {
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
	if (sendq_bytes(s->q) > cap / 2 && s->leg) {
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

/* ---- browser connections ------------------------------------------- */

/* Writes a complete HTTP/1.1 refusal with "Connection: close"; the
 * caller then hangs up, so the connection is never reused. (lws's own
 * status helper says HTTP/1.0 this early in the request, which some
 * WebSocket clients refuse to parse.) */
static void
session_refuse(struct lws *wsi, unsigned status, const char *body)
{
	unsigned char buf[LWS_PRE + 1024];
	size_t n;

	n = front_refusal((char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE,
	    status, body);
	if (n)
		lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_HEADERS);
}

/* Copies header h into a fresh string, or NULL when absent or huge. */
static char *
session_hdr(struct lws *wsi, enum lws_token_indexes h)
{
	int n = lws_hdr_total_length(wsi, h);
	char *s;

	if (n <= 0 || n > 8192)
		return NULL;
	s = xmalloc((size_t)n + 1);
	if (lws_hdr_copy(wsi, s, n + 1, h) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The upgrade's checks, on the raw request-target front.c kept (lws'
 * own WSI_TOKEN_GET_URI is decoded lossily: '+' as a space). */
static enum upgrade_result
session_check(struct proxy *p, struct lws *wsi, struct route *rt)
{
	const struct front_req *req = front_req_of(wsi);
	char *origin = session_hdr(wsi, WSI_TOKEN_ORIGIN);
	char *host = session_hdr(wsi, WSI_TOKEN_HOST);
	enum upgrade_result r = UPGRADE_NOT_FOUND;

	if (req)
		r = upgrade_check(p->cfg->reg, req->target, req->path_len,
		    origin, host, req->proto, rt);
	if (r == UPGRADE_FORBIDDEN)
		wlog(WLOG_WARN, NULL, rt->runtime_id,
		    "upgrade refused: origin not allowed");
	free(origin);
	free(host);
	return r;
}

/* The first cursor= of the upgrade's raw query: 0 none (or empty), 1
 * found (decoded, copied), -1 malformed. */
static int
session_cursor_arg(struct lws *wsi, char *out, size_t cap)
{
	const struct front_req *req = front_req_of(wsi);
	const char *q, *end;
	char *v;
	int vlen, rc = -1;

	if (!req || req->target[req->path_len] != '?')
		return 0;
	for (q = req->target + req->path_len + 1; *q; q = end + !!*end) {
		end = q + strcspn(q, "&;");
		if (end - q < 7 || strncmp(q, "cursor=", 7) != 0)
			continue;
		if (end - q == 7)
			return 0;
		v = curl_easy_unescape(NULL, q + 7, (int)(end - q - 7), &vlen);
		if (v && (size_t)vlen == strlen(v) && (size_t)vlen < cap &&
		    frame_cursor_valid(v)) {
			snprintf(out, cap, "%s", v);
			rc = 1;
		}
		curl_free(v);
		return rc;
	}
	return 0;
}

size_t
session_queued_bytes(const struct session *s)
{
	return sendq_bytes(s->q);
}

void
session_free(struct session *s)
{
	if (!s)
		return;
	session_leave_feed(s);
	session_drop_leg(s);
	lws_dll2_remove(&s->list);
	sendq_free(s->q);
	free(s);
}

void
session_abandon(struct session *s)
{
	/* No slot hand-over now: nothing may connect during teardown. */
	if (s->wait_node.owner)
		lws_dll2_remove(&s->wait_node);
	leg_abandon(s->leg);
	leg_free(s->leg);
	s->leg = NULL;
	s->feed = NULL;		/* the feeds go with the set */
	s->browser = NULL;
}

void
session_shutdown(struct session *s)
{
	session_finish(s, FRAME_DIAG_SHUTTING_DOWN, LWS_CLOSE_STATUS_GOINGAWAY,
	    false);
}

static struct session *
session_new(struct proxy *p, struct lws *wsi)
{
	struct session *s = xcalloc(1, sizeof(*s));
	const struct registry *reg = p->cfg->reg;
	char cursor[FRAME_CURSOR_MAX + 1] = "";
	struct route rt;
	int c;

	s->p = p;
	s->browser = wsi;
	s->q = sendq_new(reg->wsproxy.send_queue_max_bytes, LWS_PRE);
	ids_request_id_generate(s->id);
	lws_dll2_add_tail(&s->list, &p->sessions);

	if (session_check(p, wsi, &rt) != UPGRADE_OK) {
		/* The config changed between CONFIRM_UPGRADE and now. */
		wsm_refused(p->metrics, WSM_REFUSED_RUNTIME_NOT_FOUND);
		session_finish(s, FRAME_DIAG_RUNTIME_NOT_FOUND,
		    LWS_CLOSE_STATUS_NORMAL, false);
		return s;
	}
	snprintf(s->runtime_id, sizeof(s->runtime_id), "%s", rt.runtime_id);
	memcpy(s->worker_id, rt.worker_id, rt.worker_id_len);
	s->worker_id[rt.worker_id_len] = '\0';
	s->worker_id_len = rt.worker_id_len;
	if (!registry_find(reg, s->runtime_id)) {
		wlog(WLOG_INFO, s->id, s->runtime_id,
		    "stream refused: runtime not configured");
		wsm_refused(p->metrics, WSM_REFUSED_RUNTIME_NOT_FOUND);
		session_finish(s, FRAME_DIAG_RUNTIME_NOT_FOUND,
		    LWS_CLOSE_STATUS_NORMAL, false);
		return s;
	}
	c = session_cursor_arg(wsi, cursor, sizeof(cursor));
	if (c < 0) {
		wlog(WLOG_INFO, s->id, s->runtime_id,
		    "stream refused: malformed cursor");
		wsm_refused(p->metrics, WSM_REFUSED_CURSOR_MALFORMED);
		session_finish(s, FRAME_DIAG_CURSOR_MALFORMED,
		    LWS_CLOSE_STATUS_NORMAL, false);
		return s;
	}
	if (c > 0)
		session_set_position(s, cursor);
	wlog(WLOG_INFO, s->id, s->runtime_id, "stream opened: worker %s%s",
	    s->worker_id, c > 0 ? ", with a cursor" : "");
	session_start_leg(s);
	return s;
}

/* Whether the upgrade may go ahead; refuses it (and returns false)
 * otherwise. */
static bool
session_confirm_upgrade(struct proxy *p, struct lws *wsi, const char *up)
{
	enum upgrade_result r;
	struct route rt;

	/* RFC 6455: the Upgrade token is case-insensitive. */
	if (!up || strcasecmp(up, "websocket") != 0) {
		wsm_refused(p->metrics, WSM_REFUSED_NOT_WEBSOCKET);
		session_refuse(wsi, 404, upgrade_http_body(UPGRADE_NOT_FOUND));
		return false;
	}
	if (p->shutting_down) {
		wsm_refused(p->metrics, WSM_REFUSED_SHUTTING_DOWN);
		session_refuse(wsi, 503, "{\"error\":{\"code\":"
		    "\"unavailable\",\"message\":\"The gateway is shutting "
		    "down.\"}}");
		return false;
	}
	if (p->browsers >= p->cfg->reg->wsproxy.max_connections) {
		wlog(WLOG_WARN, NULL, NULL, "upgrade refused: max_connections "
		    "(%u) reached", p->cfg->reg->wsproxy.max_connections);
		wsm_refused(p->metrics, WSM_REFUSED_MAX_CONNECTIONS);
		session_refuse(wsi, 503, "{\"error\":{\"code\":"
		    "\"unavailable\",\"message\":\"Too many event streams are "
		    "open.\"}}");
		return false;
	}
	r = session_check(p, wsi, &rt);
	if (r != UPGRADE_OK) {
		wsm_refused_upgrade(p->metrics, r);
		session_refuse(wsi, upgrade_http_status(r),
		    upgrade_http_body(r));
		return false;
	}
	return true;
}

/* Frames to the browser, as many as its socket takes (at most
 * SESSION_WRITE_BATCH): one frame per writable callback costs a turn of
 * the loop per frame, and a shared upstream reading ~60 events per read
 * would outrun every browser. The socket is full when lws had to keep
 * part of a write (lws_partial_buffered: no syscall, unlike
 * lws_send_pipe_choked's poll); lws sends that part first and calls
 * back. -1: hang up. */
static int
session_write(struct session *s, struct lws *wsi)
{
	size_t cap = sendq_cap(s->q), blen;
	unsigned char *buf;
	int n;

	for (n = 0; n < SESSION_WRITE_BATCH; n++) {
		buf = sendq_peek(s->q, &blen);
		if (!buf)
			break;
		if (lws_write(wsi, buf, blen, LWS_WRITE_TEXT) < (int)blen) {
			wlog(WLOG_INFO, s->id, s->runtime_id,
			    "browser write failed");
			return -1;
		}
		wsm_relayed(s->p->metrics, blen);
		sendq_pop(s->q);
		if (lws_partial_buffered(wsi))
			break;
	}
	if (sendq_bytes(s->q) <= cap / 4) {
		if (s->behind)
			session_catch_up(s);
		else if (s->leg)
			leg_pause(s->leg, false);
	}
	if (sendq_count(s->q)) {
		lws_callback_on_writable(wsi);
	} else if (s->closing) {
		const char *why = "closing";

		lws_close_reason(wsi, (enum lws_close_status)s->closing,
		    (unsigned char *)why, strlen(why));
		/* Not "return -1": Debian's lws 4.1.6 is a debug build,
		 * whose libuv path closes a wsi a second time right after a
		 * callback asked for the close ("uv repeat test",
		 * service.c), which kills the socket before the close frame
		 * is sent. This close sends it and waits for the answer. */
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND,
		    LWS_TO_KILL_SYNC);
		return 0;
	}
	return 0;
}

static int
session_browser_cb(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct proxy *p = lws_context_user(lws_get_context(wsi));
	struct browser_pss *pss = user;
	struct session *s = pss ? pss->s : NULL;

	(void)len;
	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return session_confirm_upgrade(p, wsi, in) ? 0 : -1;
	case LWS_CALLBACK_HTTP:
		/* Not an upgrade: this daemon serves only event sockets. */
		wsm_refused(p->metrics, WSM_REFUSED_NOT_UPGRADE);
		session_refuse(wsi, 404, upgrade_http_body(UPGRADE_NOT_FOUND));
		return -1;
	case LWS_CALLBACK_ESTABLISHED:
		p->browsers++;
		wsm_stream_open(p->metrics);
		pss->s = session_new(p, wsi);
		/* The raw request is no longer needed: memory per browser
		 * counts when 10,000 watch one worker. */
		front_req_release(wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return s ? session_write(s, wsi) : 0;
	case LWS_CALLBACK_RECEIVE:
		if (!s)
			break;
		if (!s->closing)
			wlog(WLOG_INFO, s->id, s->runtime_id,
			    "browser sent a data frame");
		session_finish(s, FRAME_DIAG_OBSERVATION_ONLY,
		    LWS_CLOSE_STATUS_POLICY_VIOLATION, false);
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* lws_cancel_service: the reload thread has a result. */
		proxy_reload_take(p);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		/* This vhost's protocols[0]: every browser wsi ends here. */
		front_req_release(wsi);
		break;
	case LWS_CALLBACK_CLOSED:
		if (!s)
			break;
		wlog(WLOG_INFO, s->id, s->runtime_id, "stream closed");
		pss->s = NULL;
		s->browser = NULL;
		session_free(s);
		wsm_stream_close(p->metrics);
		proxy_browser_gone(p);
		break;
	default:
		break;
	}
	return 0;
}

/* rx_buffer_size: browsers only ever send control frames (and a data
 * frame is an error): a small buffer saves memory per browser. */
const struct lws_protocols session_protocols[] = {
	{ "wrg-events", session_browser_cb, sizeof(struct browser_pss), 256,
	    0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};
