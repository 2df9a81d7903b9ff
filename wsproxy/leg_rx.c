/*
 * leg_rx — the lws side of a leg (leg.h): the client protocol's
 * callbacks, the token in the handshake, message reassembly, parsing,
 * and what each runtime frame means for the leg. Split from leg.c
 * (lifetime, connects, reconnects); both share leg_int.h.
 */
#include "leg.h"
#include "leg_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientvh.h"
#include "metrics.h"
#include "proxy.h"
#include "resume.h"
#include "rtreq.h"
#include "wjson.h"
#include "wlog.h"
#include "xalloc.h"

/* ---- messages ------------------------------------------------------ */

/* A runtime event that passed the checks: to the owner as a shared
 * frame. */
static void
leg_event(struct leg *l, struct frame_in *in)
{
	struct sframe *fr;
	uint64_t seq = 0;
	bool ordered = frame_cursor_seq(in->cursor, &seq), had_pos;

	if (!in->snapshot)
		leg_healthy(l);
	if (!in->snapshot && ordered && l->have_seq && seq <= l->seq) {
		/* A runtime replaying what it was asked to resume after:
		 * exactly once means not again (and the position stays). */
		wlog(WLOG_DEBUG, l->log_id, l->runtime_id, "event %s at or "
		    "before the position: dropped", in->cursor);
		return;
	}
	had_pos = l->res.cursor[0] != '\0';
	if (resume_on_event(&l->res, in->cursor, in->snapshot) !=
	    RESUME_FORWARD)
		return;
	/* Mirror resume.c's position: every event moves it; a snapshot
	 * only when there was none. */
	if (!in->snapshot || !had_pos) {
		l->have_seq = ordered;
		l->seq = seq;
	}
	fr = sframe_new(in->out, in->out_len, LWS_PRE);
	snprintf(fr->cursor, sizeof(fr->cursor), "%s", in->cursor);
	fr->has_seq = frame_cursor_seq(in->cursor, &fr->seq);
	l->ops->event(l->owner, fr, in->snapshot);
}

/* A runtime diagnostic: the runtime closes after it. Returns after
 * having dropped the connection. */
static void
leg_diagnostic(struct leg *l, const struct frame_in *in)
{
	wlog(WLOG_INFO, l->log_id, l->runtime_id, "runtime diagnostic %s",
	    in->runtime_code);
	switch (in->action) {
	case FRAME_ACT_CLOSE:
		leg_finish(l, in->diag, LWS_CLOSE_STATUS_NORMAL);
		return;
	case FRAME_ACT_RESYNC:
		/* Without a cursor there is nothing to resync from: a
		 * confused runtime gets the normal backoff, not a loop. */
		if (!l->had_cursor)
			break;
		resume_on_expired(&l->res);
		l->have_seq = false;
		wsm_resync(l->p->metrics);
		l->ops->diag(l->owner, FRAME_DIAG_RESYNCED);
		if (l->final || l->doomed)
			return;
		l->immediate = true;
		break;
	case FRAME_ACT_RECONNECT:
		break;
	}
	leg_drop(l);
	leg_lost(l);
}

/* A runtime that broke the stream's rules (what it sent was logged):
 * the leg ends, its browsers see runtime_unavailable. Returns -1, what
 * the receive path returns then. */
static int
leg_rx_broken(struct leg *l)
{
	leg_finish(l, FRAME_DIAG_RUNTIME_UNAVAILABLE,
	    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
	return -1;
}

/* Handles one complete runtime message (inside leg_enter). Returns -1
 * when the connection must be closed (already detached by then). */
static int
leg_message(struct leg *l)
{
	struct frame_in in;
	enum frame_err e;

	/* json-c can need hundreds of times a frame's bytes (a frame of
	 * "{}," costs ~265 times its size): cost it before parsing, as
	 * wrg.fcgi does runtime answers. */
	if (!wjson_cost_within(l->rx, l->rx_len, wjson_cost_budget(l->rx_max,
	    WJSON_COST_FLOOR))) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id, "runtime frame of "
		    "%zu bytes is over the parse budget", l->rx_len);
		return leg_rx_broken(l);
	}
	if (l->tok == NULL)
		l->tok = wjson_tokener_new(WJSON_MAX_DEPTH);
	e = l->rx_len ? frame_parse_with(l->tok, l->rx, l->rx_len,
	    l->runtime_id, &in) : FRAME_ERR_JSON;
	if (e != FRAME_OK) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id, "%s (%zu bytes)",
		    frame_strerror(e), l->rx_len);
		return leg_rx_broken(l);
	}
	if (in.kind == FRAME_DIAGNOSTIC) {
		leg_diagnostic(l, &in);
		return -1;
	}
	if (strlen(in.worker_id) != l->worker_id_len ||
	    memcmp(in.worker_id, l->worker_id, l->worker_id_len) != 0) {
		/* Another worker's event on this worker's stream: a
		 * confused or hostile runtime; nothing of it is passed. */
		wlog(WLOG_WARN, l->log_id, l->runtime_id, "runtime sent an "
		    "event of another worker on this stream");
		frame_in_clear(&in);
		return leg_rx_broken(l);
	}
	leg_event(l, &in);
	frame_in_clear(&in);
	return l->final || l->doomed || l->wsi == NULL ? -1 : 0;
}

/* Appends one piece of a runtime message; -1: the leg finished. */
static int
leg_rx_append(struct leg *l, struct lws *wsi, const void *in, size_t len)
{
	if (lws_frame_is_binary(wsi)) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id,
		    "runtime sent a binary frame");
		return leg_rx_broken(l);
	}
	if (len > l->rx_max || l->rx_len > l->rx_max - len) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id,
		    "runtime message over %zu bytes", l->rx_max);
		return leg_rx_broken(l);
	}
	if (l->rx_len + len > l->rx_cap) {
		size_t ncap = l->rx_cap ? l->rx_cap : 4096;

		while (ncap < l->rx_len + len)
			ncap *= 2;
		if (ncap > l->rx_max)
			ncap = l->rx_max;
		l->rx = xrealloc(l->rx, ncap);
		l->rx_cap = ncap;
	}
	if (len) {
		memcpy(l->rx + l->rx_len, in, len);
		l->rx_len += len;
	}
	return 0;
}

static int
leg_receive(struct leg *l, struct lws *wsi, const void *in, size_t len)
{
	if (leg_rx_append(l, wsi, in, len))
		return -1;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (leg_message(l))
		return -1;
	l->rx_len = 0;
	if (l->rx_cap > 65536) {
		free(l->rx);
		l->rx = NULL;
		l->rx_cap = 0;
	}
	return 0;
}

/* ---- lws callbacks ------------------------------------------------- */

static int
leg_append_token(struct leg *l, struct lws *wsi, void *in, size_t len)
{
	unsigned char **pp = (unsigned char **)in, *end = *pp + len;
	const char *tok = registry_token(l->cfg->reg, l->rt);
	char *val;
	int r;

	if (tok == NULL)
		return 0;
	val = rtreq_bearer(tok, RTREQ_BEARER_VALUE);
	r = lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
	    (unsigned char *)val, (int)strlen(val), pp, end);
	rtreq_secret_free(val);
	if (r) {
		/* lws then frees the wsi without CONNECTION_ERROR (see
		 * WSI_DESTROY below); retrying cannot help. */
		wlog(WLOG_ERR, l->log_id, l->runtime_id, "the upstream "
		    "handshake does not fit lws' buffer (token of %zu bytes)",
		    strlen(tok));
		l->unbuildable = true;
		return -1;
	}
	return 0;
}

void
leg_log_connected(const struct leg *l, enum wlog_level level)
{
	wlog(level, l->log_id, l->runtime_id, "upstream connected to %s%s%s%s",
	    l->rt->base_url, l->addr[0] ? " (" : "", l->addr,
	    l->addr[0] ? ")" : "");
}

static void
leg_established(struct leg *l)
{
	lws_sul_cancel(&l->sul_connect_to);
	lws_sul_schedule(l->p->ctx, 0, &l->sul_healthy, leg_healthy_cb,
	    (lws_usec_t)l->cfg->reg->wsproxy.reconnect_max_ms *
	    LWS_US_PER_MS);
	l->rx_len = 0;
	wsm_upstream_connect(l->p->metrics, l->runtime_id, WSM_CONNECT_OK);
	wsm_leg_up(l->p->metrics, l->runtime_id, &l->leg_counted);
	leg_log_connected(l, l->quiet ? WLOG_DEBUG :
	    leg_log_level(l, WLOG_INFO));
}

static void
leg_connection_error(struct leg *l, struct lws *wsi, const char *why)
{
	unsigned status = lws_http_client_http_response(wsi);

	wlog(leg_log_level(l, WLOG_WARN), l->log_id, l->runtime_id,
	    "upstream connect to %s failed: %s (HTTP %u)", l->rt->base_url,
	    why != NULL ? why : "-", status);
	wsm_upstream_connect(l->p->metrics, l->runtime_id,
	    wsm_connect_status(status));
	lws_set_opaque_user_data(wsi, NULL);
	/* Not stored yet when this runs inside the connect call. */
	if (l->wsi == wsi)
		leg_detach(l);
	l->gone_seen = true;
	if (status >= 300 && status < 500) {
		/* Refused (token, route) or redirected (never followed: the
		 * token would go along): retrying cannot help. */
		leg_finish(l, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_NORMAL);
		return;
	}
	if (!status)
		l->addr_next++;	/* next address, if several */
	leg_lost(l);
}

/* lws freed a client wsi. Every connection that ended through
 * CONNECTION_ERROR, CLIENT_CLOSED or leg_drop was detached already; a
 * leg still attached here means lws freed the wsi without telling us
 * otherwise (lws 4.1: a handshake it could not build or write,
 * "chs"/"cws" in client-http.c). */
static void
leg_wsi_destroyed(struct leg *l, struct lws *wsi)
{
	lws_set_opaque_user_data(wsi, NULL);
	if (l->wsi == wsi)
		leg_detach(l);
	l->rx_len = 0;
	wsm_upstream_connect(l->p->metrics, l->runtime_id, l->unbuildable ?
	    WSM_CONNECT_LOCAL : WSM_CONNECT_LOST);
	if (l->unbuildable) {
		l->gone_seen = true;
		leg_finish(l, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
		return;
	}
	/* Once per outage, as for a refused connect (a Unix socket that is
	 * missing ends here at every attempt). */
	wlog(leg_log_level(l, WLOG_WARN), l->log_id, l->runtime_id,
	    "upstream connection to %s ended before the handshake",
	    l->rt->base_url);
	leg_lost(l);
}

static int
leg_dispatch(struct leg *l, struct lws *wsi, enum lws_callback_reasons reason,
    void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return leg_append_token(l, wsi, in, len);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		leg_established(l);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		leg_connection_error(l, wsi, in);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return leg_receive(l, wsi, in, len);
	case LWS_CALLBACK_CLIENT_CLOSED:
		wlog(leg_log_level(l, WLOG_INFO), l->log_id, l->runtime_id,
		    "upstream closed");
		lws_set_opaque_user_data(wsi, NULL);
		if (l->wsi == wsi)
			leg_detach(l);
		l->rx_len = 0;
		leg_lost(l);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		leg_wsi_destroyed(l, wsi);
		return 0;
	default:
		return 0;
	}
}

static int
leg_client_cb(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct leg *l = lws_get_opaque_user_data(wsi);
	int r;

	(void)user;
	if (reason == LWS_CALLBACK_WSI_DESTROY) {
		/* protocols[0] of the wsi's vhost gets every client wsi's
		 * end (client vhosts hold only this protocol). */
		struct proxy *p = lws_context_user(lws_get_context(wsi));

		clientvh_wsi_gone(p->cvhs, lws_get_vhost(wsi));
	}
	if (l == NULL) {
		switch (reason) {
		case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		case LWS_CALLBACK_CLIENT_ESTABLISHED:
		case LWS_CALLBACK_CLIENT_RECEIVE:
			return -1;
		default:
			return 0;
		}
	}
	leg_enter(l);
	r = leg_dispatch(l, wsi, reason, in, len);
	if (leg_leave(l))
		return reason == LWS_CALLBACK_CLIENT_RECEIVE ? -1 : r;
	return r;
}

const struct lws_protocols leg_protocols[] = {
	/* 16 KiB reads (lws' serve buffer): a shared upstream in a burst
	 * reads ~60 events per turn of the loop, not 16. */
	{ "wrg-upstream", leg_client_cb, 0, 16384, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};
