/*
 * browser — the browser side of a stream (session.h): the "wrg-events"
 * protocol's callbacks, the upgrade's checks and refusals, and the
 * writes. Split from session.c (positions, feeds, own legs); both share
 * session_int.h.
 *
 * Ownership: as session.h; a struct browser_pss (lws' per-connection
 * user data) points at its session and is cleared at CLOSED.
 */
#include "session.h"
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/socket.h>

#include <curl/curl.h>

#include "alive.h"
#include "front.h"
#include "ids.h"
#include "leg.h"
#include "metrics.h"
#include "proxy.h"
#include "route.h"
#include "sendq.h"
#include "sframe.h"
#include "upgrade.h"
#include "wlog.h"
#include "xalloc.h"

/* Most frames written in one writable callback (see session_write). */
#define SESSION_WRITE_BATCH 64

struct browser_pss {
	struct session *s;
};

/* ---- browser connections ------------------------------------------- */

/* Writes a complete HTTP/1.1 refusal with "Connection: close"; the
 * caller then hangs up, so the connection is never reused. (lws's own
 * status helper says HTTP/1.0 this early in the request, which some
 * WebSocket clients refuse to parse.) */
static void
session_refuse(struct lws *wsi, enum apierr e)
{
	unsigned char buf[LWS_PRE + 1024];
	char request_id[IDS_REQUEST_ID_MAX + 1];
	char *body;
	size_t n;

	/* browser-api.md: every error answer carries a request id, and it
	 * is the one in our log. */
	ids_request_id_generate(request_id);
	body = apierr_body(e, request_id);
	wlog(WLOG_INFO, request_id, NULL, "upgrade refused: %d %s",
	    apierr_status(e), apierr_code(e));
	n = front_refusal((char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE,
	    (unsigned)apierr_status(e), request_id, body);
	free(body);
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

	if (req != NULL)
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

	if (req == NULL || req->target[req->path_len] != '?')
		return 0;
	for (q = req->target + req->path_len + 1; *q; q = end + !!*end) {
		end = q + strcspn(q, "&;");
		if (end - q < 7 || strncmp(q, "cursor=", 7) != 0)
			continue;
		if (end - q == 7)
			return 0;
		v = curl_easy_unescape(NULL, q + 7, (int)(end - q - 7), &vlen);
		if (v != NULL && (size_t)vlen == strlen(v) &&
		    (size_t)vlen < cap && frame_cursor_valid(v)) {
			snprintf(out, cap, "%s", v);
			rc = 1;
		}
		curl_free(v);
		return rc;
	}
	return 0;
}

/* Ends a stream refused after its upgrade (while session_new sets it
 * up): counted as why, closed normally with diag. Returns s. */
static struct session *
session_new_refused(struct session *s, enum wsm_refusal why,
    enum frame_diag diag)
{
	wsm_refused(s->p->metrics, why);
	session_finish(s, diag, LWS_CLOSE_STATUS_NORMAL, false);
	return s;
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
		return session_new_refused(s, WSM_REFUSED_RUNTIME_NOT_FOUND,
		    FRAME_DIAG_RUNTIME_NOT_FOUND);
	}
	snprintf(s->runtime_id, sizeof(s->runtime_id), "%s", rt.runtime_id);
	memcpy(s->worker_id, rt.worker_id, rt.worker_id_len);
	s->worker_id[rt.worker_id_len] = '\0';
	s->worker_id_len = rt.worker_id_len;
	if (registry_find(reg, s->runtime_id) == NULL) {
		wlog(WLOG_INFO, s->id, s->runtime_id,
		    "stream refused: runtime not configured");
		return session_new_refused(s, WSM_REFUSED_RUNTIME_NOT_FOUND,
		    FRAME_DIAG_RUNTIME_NOT_FOUND);
	}
	c = session_cursor_arg(wsi, cursor, sizeof(cursor));
	if (c < 0) {
		wlog(WLOG_INFO, s->id, s->runtime_id,
		    "stream refused: malformed cursor");
		return session_new_refused(s, WSM_REFUSED_CURSOR_MALFORMED,
		    FRAME_DIAG_CURSOR_MALFORMED);
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
	if (up == NULL || strcasecmp(up, "websocket") != 0) {
		wsm_refused(p->metrics, WSM_REFUSED_NOT_WEBSOCKET);
		session_refuse(wsi, APIERR_NOT_FOUND);
		return false;
	}
	if (p->shutting_down) {
		wsm_refused(p->metrics, WSM_REFUSED_SHUTTING_DOWN);
		session_refuse(wsi, APIERR_SHUTTING_DOWN);
		return false;
	}
	if (p->browsers >= p->cfg->reg->wsproxy.max_connections) {
		wlog(WLOG_WARN, NULL, NULL, "upgrade refused: max_connections "
		    "(%u) reached", p->cfg->reg->wsproxy.max_connections);
		wsm_refused(p->metrics, WSM_REFUSED_MAX_CONNECTIONS);
		session_refuse(wsi, APIERR_TOO_MANY_STREAMS);
		return false;
	}
	r = session_check(p, wsi, &rt);
	if (r != UPGRADE_OK) {
		wsm_refused_upgrade(p->metrics, r);
		session_refuse(wsi, upgrade_refusal(r));
		return false;
	}
	return true;
}

/* Reads and drops what the browser sent and lws has not read, before
 * the close. A socket closed with unread input sends a reset instead of
 * a FIN, and a reset makes the browser's TCP stack drop what it had not
 * yet read: the last frames, the diagnostic and the close. lws leaves
 * input unread when a browser that stopped reading pings (it stops
 * reading until it can send the pong), which is when a slow consumer is
 * cut (wsproxy-shared.sh "cut" got close code 1006 and no diagnostic).
 * Nothing read here matters: the stream is over. */
static void
session_discard_rx(struct lws *wsi)
{
	char buf[4096];
	int fd = lws_get_socket_fd(wsi), i;

	for (i = 0; i < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0;
	    i++)
		;
}

/* How often a closing session looks whether the browser read its last
 * frames; how often the wait for its close answer is stretched, and by
 * how much (lws' own wait). */
#define SESSION_CLOSE_CHECK_MS 100
#define SESSION_ACK_CHECK_MS 1000
#define SESSION_ACK_WAIT_S 5

/* lws waits 5 s for the browser to answer the close frame, then drops
 * the socket. Behind a web server that is too short: nginx has read
 * everything (so SIOCOUTQ said 0) and holds it for a browser that has
 * stopped reading; when wrg-wsproxy hangs up, nginx closes the browser's
 * socket with the last frames still in its kernel queue, and the pong
 * the browser sends once it reads again is answered with a reset that
 * loses them: a cut slow consumer saw no close frame (1006, not 1008).
 * So the wait is stretched, a second at a time, up to the close grace. */
static void
session_await_close_ack(struct session *s, struct lws *wsi)
{
	if (lws_now_usecs() >= s->close_ack_until)
		return;	/* lws' own timeout ends it */
	/* And the pings' hangup is held off: the browser's pong is behind
	 * the same frames as its answer. The grace bounds both. */
	lws_validity_confirmed(wsi);
	lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, SESSION_ACK_WAIT_S);
	lws_set_timer_usecs(wsi, (lws_usec_t)SESSION_ACK_CHECK_MS *
	    LWS_US_PER_MS);
}

static void
session_close_now(struct session *s, struct lws *wsi)
{
	const char *why = "closing";

	session_discard_rx(wsi);
	lws_close_reason(wsi, (enum lws_close_status)s->closing,
	    (unsigned char *)why, strlen(why));
	s->close_ack_until = lws_now_usecs() +
	    (lws_usec_t)SESSION_CLOSE_GRACE_S * LWS_US_PER_SEC;
	lws_set_timer_usecs(wsi, (lws_usec_t)SESSION_ACK_CHECK_MS *
	    LWS_US_PER_MS);
	/* Not "return -1": Debian's lws 4.1.6 is a debug build, whose
	 * libuv path closes a wsi a second time right after a callback
	 * asked for the close ("uv repeat test", service.c), which kills
	 * the socket before the close frame is sent. This close sends it. */
	lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
	/* s may be gone here. */
}

/* Everything is written: close once the browser has read it. Closed
 * before, the socket would be left to the kernel with the last frames
 * in it, and a browser that had stopped reading for longer than the
 * kernel keeps such a socket (its zero-window probes) gets a reset and
 * loses them: a cut slow consumer never saw backend.slow_consumer. The
 * check repeats every SESSION_CLOSE_CHECK_MS; each time the browser read
 * something its grace period starts over; past it lws drops the socket. */
static void
session_close_when_read(struct session *s, struct lws *wsi)
{
	int n;

	if (s->close_ack_until)
		return;	/* asked already: a second close would drop it */
	n = alive_unsent(wsi);
	if (n == 0) {
		session_close_now(s, wsi);
		return;
	}
	if (s->unsent == 0 || n < s->unsent)
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
		    SESSION_CLOSE_GRACE_S);
	if (n < s->unsent)
		lws_validity_confirmed(wsi);	/* it reads: alive */
	s->unsent = n;
	lws_set_timer_usecs(wsi, (lws_usec_t)SESSION_CLOSE_CHECK_MS *
	    LWS_US_PER_MS);
}

/* Bytes of frames session_write sends in one write. */
#define SESSION_WBUF_SIZE (64 * 1024)

/* Moves the frames at the head of the queue, headers included, into
 * p->wbuf for one write (at most SESSION_WRITE_BATCH frames, and
 * SESSION_WBUF_SIZE bytes or an eighth of the queue's cap, whichever is
 * less); returns the bytes, 0 when the first frame alone is over that
 * (it goes on its own). What the socket does not take, lws keeps: the
 * eighth bounds that, and keeps a browser that stopped reading from
 * seeing its queue drain into lws and catching up while it reads
 * nothing. */
static size_t
session_fill_batch(struct session *s, unsigned char *wb, int *frames)
{
	size_t total = 0, blen, max = sendq_cap(s->q) / 8;
	unsigned char *buf;

	if (max > SESSION_WBUF_SIZE)
		max = SESSION_WBUF_SIZE;
	for (*frames = 0; *frames < SESSION_WRITE_BATCH; (*frames)++) {
		buf = sendq_peek(s->q, &blen);
		/* total <= max holds: each frame is added only if it fits. */
		if (buf == NULL || max - total < SFRAME_WS_HEADER_MAX + blen)
			break;
		total += sframe_ws_header(wb + total, blen);
		memcpy(wb + total, buf, blen);
		total += blen;
		wsm_relayed(s->p->metrics, blen);
		sendq_pop(s->q);
	}
	return total;
}

/* Frames to the browser, as many as its socket takes (at most
 * SESSION_WRITE_BATCH). One frame is one lws_write (lws frames it in the
 * headroom). Several are framed here, one after the other, and go in
 * one raw write: lws would make a send() each, and a system call per
 * frame was the largest cost of one browser reading a busy worker
 * (docs/bench.md). lws sends what the socket did not take before
 * anything else, pings and closes included, so frames stay whole. The
 * socket is full when lws had to keep part of a write
 * (lws_partial_buffered: no syscall, unlike lws_send_pipe_choked's
 * poll); lws sends that part first and calls back. -1: hang up. */
static int
session_write(struct session *s, struct lws *wsi)
{
	size_t cap = sendq_cap(s->q), blen;
	unsigned char *buf;
	int n = 0;

	if (sendq_count(s->q) > 1) {
		if (s->p->wbuf == NULL)
			s->p->wbuf = xmalloc(LWS_PRE + SESSION_WBUF_SIZE);
		blen = session_fill_batch(s, s->p->wbuf + LWS_PRE, &n);
		if (blen && lws_write(wsi, s->p->wbuf + LWS_PRE, blen,
		    LWS_WRITE_RAW) < (int)blen)
			goto failed;
		alive_wrote(s, blen);
	}
	if (n == 0 && (buf = sendq_peek(s->q, &blen)) != NULL) {
		if (lws_write(wsi, buf, blen, LWS_WRITE_TEXT) < (int)blen)
			goto failed;
		alive_wrote(s, blen);
		wsm_relayed(s->p->metrics, blen);
		sendq_pop(s->q);
		n = 1;
	}
	if (sendq_bytes(s->q) <= cap / 4) {
		if (s->behind)
			session_catch_up(s);
		else if (s->leg != NULL)
			leg_pause(s->leg, false);
	}
	/* Closing, and the browser read: it has another grace period. */
	if (s->closing && n > 0)
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
		    SESSION_CLOSE_GRACE_S);
	if (sendq_count(s->q) || lws_partial_buffered(wsi)) {
		/* While lws holds part of a write, nothing more is written
		 * (session_flush skips a session that waits for POLLOUT): lws
		 * would keep all of it, and what a browser that stopped
		 * reading costs would no longer be bounded by its queue. */
		session_want_pollout(s);
	} else if (s->closing) {
		session_close_when_read(s, wsi);
	}
	return 0;
failed:
	wlog(WLOG_INFO, s->id, s->runtime_id, "browser write failed");
	return -1;
}

/* Writes what the turn of the loop queued for each browser whose socket
 * is not waiting for POLLOUT (session_writable; called by proxy.c once
 * per turn, outside any lws callback). A session may be gone when
 * session_write returns (a close), so the list is unlinked first. */
void
session_flush(struct proxy *p)
{
	struct session *s;
	struct lws *wsi;

	while (lws_dll2_get_head(&p->flush) != NULL) {
		s = lws_container_of(lws_dll2_get_head(&p->flush),
		    struct session, flush_node);
		lws_dll2_remove(&s->flush_node);
		wsi = s->browser;
		if (wsi == NULL || s->write_asked)
			continue;
		if (session_write(s, wsi) < 0)
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
	}
}

static int
session_browser_cb(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct proxy *p = lws_context_user(lws_get_context(wsi));
	struct browser_pss *pss = user;
	struct session *s = pss != NULL ? pss->s : NULL;

	(void)len;
	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return session_confirm_upgrade(p, wsi, in) ? 0 : -1;
	case LWS_CALLBACK_HTTP:
		/* Not an upgrade: this daemon serves only event sockets. */
		wsm_refused(p->metrics, WSM_REFUSED_NOT_UPGRADE);
		session_refuse(wsi, APIERR_NOT_FOUND);
		return -1;
	case LWS_CALLBACK_ESTABLISHED:
		p->browsers++;
		wsm_stream_open(p->metrics);
		pss->s = session_new(p, wsi);
		pss->s->answered = lws_now_usecs();
		/* The raw request is no longer needed: memory per browser
		 * counts when 10,000 watch one worker. */
		front_req_release(wsi);
		break;
	case LWS_CALLBACK_TIMER:
		if (s == NULL || !s->closing)
			break;
		if (s->close_ack_until)
			session_await_close_ack(s, wsi);
		else if (!sendq_count(s->q))
			session_close_when_read(s, wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (s == NULL)
			return 0;
		s->write_asked = false;
		return session_write(s, wsi);
	case LWS_CALLBACK_RECEIVE_PONG:
		if (s != NULL)
			s->answered = lws_now_usecs();
		break;
	case LWS_CALLBACK_RECEIVE:
		if (s == NULL)
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
		if (s == NULL)
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
 * frame is an error): a small buffer saves memory per browser.
 * tx_packet_size: lws sends at most this much of a write at once (it
 * allocates nothing for it); left 0 it would be rx_buffer_size, and a
 * 2 KiB frame would take eight turns of the loop. */
const struct lws_protocols session_protocols[] = {
	{ "wrg-events", session_browser_cb, sizeof(struct browser_pss), 256,
	    0, NULL, SESSION_WBUF_SIZE },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};
