/*
 * leg — one upstream connection to a runtime's event socket (leg.h).
 * Moved here from proxy.c's session when upstreams became shareable;
 * the rules (backoff, once-per-outage notices, resync, refusals that are
 * final) are unchanged.
 */
#include "leg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientvh.h"
#include "ids.h"
#include "metrics.h"
#include "proxy.h"
#include "resolve.h"
#include "resume.h"
#include "upgrade.h"
#include "wjson.h"
#include "wlog.h"
#include "xalloc.h"

struct leg {
	struct proxy *p;
	struct proxy_cfg *cfg;			/* one reference */
	const struct registry_runtime *rt;	/* borrowed from cfg */
	const char *log_id;
	char runtime_id[IDS_RUNTIME_ID_MAX + 1];
	char worker_id[IDS_WORKER_ID_MAX + 1];
	size_t worker_id_len;
	const struct leg_ops *ops;
	void *owner;
	struct lws *wsi;
	struct clientvh *cvh;			/* wsi's vhost */
	struct resume res;
	/* The order of res's position (frame_cursor_seq), when it has
	 * one: an event at or before it is a replay, never passed on. */
	uint64_t seq;
	bool have_seq;
	char *rx;				/* message reassembly */
	size_t rx_len, rx_cap, rx_max;
	unsigned addr_next;			/* which address to try */
	char addr[RESOLVE_ADDR_LEN];		/* last one tried, for logs */
	lws_sorted_usec_list_t sul_reconnect;
	lws_sorted_usec_list_t sul_connect_to;
	lws_sorted_usec_list_t sul_healthy;	/* the leg stayed up */
	unsigned busy;		/* callbacks into the owner in progress */
	bool doomed;		/* leg_free ran while busy */
	bool reconnect_scheduled;
	bool announced;		/* the owner was told of this outage */
	bool immediate;		/* next reconnect without delay or notice */
	bool final;		/* finished: nothing more happens */
	bool gone_seen;		/* the wsi ended inside the connect call */
	bool had_cursor;	/* this connection was asked ?cursor= */
	bool unbuildable;	/* our headers did not fit lws' buffer */
	bool paused;
	bool leg_counted;	/* metrics: this connection is in legs_open */
	bool quiet;		/* leg_params.quiet, until the first outage */
};

static void leg_connect(struct leg *l);
static void leg_log_connected(const struct leg *l, enum wlog_level level);

/* ---- lifetime ------------------------------------------------------ */

static void
leg_enter(struct leg *l)
{
	l->busy++;
}

static void
leg_destroy(struct leg *l)
{
	proxy_cfg_unref(l->cfg);
	free(l->rx);
	free(l);
}

/* Ends a callback section; true when l is gone (do not touch it). */
static bool
leg_leave(struct leg *l)
{
	if (--l->busy || !l->doomed)
		return l->doomed;
	leg_destroy(l);
	return true;
}

/* The leg lets go of its wsi (the wsi's opaque pointer is the caller's
 * business): one leg less on its client vhost, which may retire a stale
 * one. */
static void
leg_detach(struct leg *l)
{
	l->wsi = NULL;
	clientvh_leg_done(l->cvh);
	l->cvh = NULL;
	wsm_leg_down(l->p->metrics, l->runtime_id, &l->leg_counted);
}

/* Detaches the wsi and has lws kill it. */
static void
leg_drop(struct leg *l)
{
	struct lws *u = l->wsi;

	lws_sul_cancel(&l->sul_connect_to);
	lws_sul_cancel(&l->sul_healthy);
	if (!u)
		return;
	leg_detach(l);
	lws_set_opaque_user_data(u, NULL);
	lws_set_timeout(u, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

static void
leg_quiet(struct leg *l)
{
	lws_sul_cancel(&l->sul_reconnect);
	l->reconnect_scheduled = false;
	leg_drop(l);
}

struct leg *
leg_new(const struct leg_params *lp)
{
	const struct registry_runtime *rt;
	struct leg *l;

	rt = registry_find(lp->p->cfg->reg, lp->runtime_id);
	if (!rt)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->p = lp->p;
	l->cfg = proxy_cfg_ref(lp->p->cfg);
	l->rt = rt;
	l->log_id = lp->log_id;
	snprintf(l->runtime_id, sizeof(l->runtime_id), "%s", lp->runtime_id);
	memcpy(l->worker_id, lp->worker_id, lp->worker_id_len);
	l->worker_id[lp->worker_id_len] = '\0';
	l->worker_id_len = lp->worker_id_len;
	l->ops = lp->ops;
	l->owner = lp->owner;
	resume_init(&l->res, lp->cursor);
	l->res.have_state = lp->have_state;
	l->have_seq = lp->cursor && frame_cursor_seq(lp->cursor, &l->seq);
	l->quiet = lp->quiet;
	return l;
}

void
leg_free(struct leg *l)
{
	if (!l)
		return;
	leg_quiet(l);
	l->final = true;
	if (l->busy) {
		l->doomed = true;
		return;
	}
	leg_destroy(l);
}

void
leg_abandon(struct leg *l)
{
	if (!l)
		return;
	lws_sul_cancel(&l->sul_reconnect);
	lws_sul_cancel(&l->sul_connect_to);
	lws_sul_cancel(&l->sul_healthy);
	if (l->wsi) {
		lws_set_opaque_user_data(l->wsi, NULL);
		l->wsi = NULL;
		l->cvh = NULL;
	}
	l->final = true;
}

void
leg_set_owner(struct leg *l, const struct leg_ops *ops, void *owner,
    const char *log_id, bool quiet)
{
	bool was_quiet = l->quiet;

	l->ops = ops;
	l->owner = owner;
	l->log_id = log_id;
	l->quiet = quiet;
	/* Its connect was logged at debug, for the browser: say it now
	 * for the new owner. */
	if (was_quiet && !quiet && l->wsi)
		leg_log_connected(l, WLOG_INFO);
}

bool
leg_announced(const struct leg *l)
{
	return l->announced;
}

void
leg_pause(struct leg *l, bool pause)
{
	if (l->paused == pause)
		return;
	l->paused = pause;
	if (l->wsi)
		lws_rx_flow_control(l->wsi, pause ? 0 : 1);
}

/* The stream is over for good; the owner hears it last. */
static void
leg_finish(struct leg *l, enum frame_diag d, int code)
{
	if (l->final)
		return;
	leg_quiet(l);
	l->final = true;
	l->ops->finish(l->owner, d, code);
}

/* ---- reconnects ---------------------------------------------------- */

/* How loudly to log a step: the first of an outage at level, the rest
 * at debug (a runtime failing every attempt would otherwise fill the
 * log at the backoff's pace). */
static enum wlog_level
leg_log_level(const struct leg *l, enum wlog_level level)
{
	return l->announced ? WLOG_DEBUG : level;
}

static void
leg_reconnect_cb(lws_sorted_usec_list_t *sul)
{
	struct leg *l = lws_container_of(sul, struct leg, sul_reconnect);

	l->reconnect_scheduled = false;
	wsm_reconnect(l->p->metrics);
	leg_enter(l);
	leg_connect(l);
	leg_leave(l);
}

/* The leg proved healthy: it delivered an event after its snapshot, or
 * stayed up reconnect_max_ms. Only now does the backoff start over and
 * does a later drop count as a new outage: a runtime that accepts the
 * upgrade and closes at once gets the growing delay and the browsers
 * hear of it once, not at every attempt. */
static void
leg_healthy(struct leg *l)
{
	lws_sul_cancel(&l->sul_healthy);
	if (l->announced)
		wlog(WLOG_INFO, l->log_id, l->runtime_id, "upstream back "
		    "after %u attempts", l->res.attempt);
	resume_on_healthy(&l->res);
	l->announced = false;
}

static void
leg_healthy_cb(lws_sorted_usec_list_t *sul)
{
	leg_healthy(lws_container_of(sul, struct leg, sul_healthy));
}

/* The connection ended (already detached). Unless the leg is over, tell
 * the owner once per outage and reconnect after the backoff. */
static void
leg_lost(struct leg *l)
{
	const struct registry_wsproxy *w = &l->cfg->reg->wsproxy;
	enum wlog_level level = leg_log_level(l, WLOG_INFO);
	unsigned delay;

	l->gone_seen = true;
	l->quiet = false;
	lws_sul_cancel(&l->sul_connect_to);
	lws_sul_cancel(&l->sul_healthy);
	if (l->final || l->reconnect_scheduled)
		return;
	if (l->immediate) {
		l->immediate = false;
		delay = 0;
	} else {
		if (!l->announced) {
			l->announced = true;
			leg_enter(l);
			l->ops->diag(l->owner, FRAME_DIAG_UPSTREAM_RECONNECTING);
			if (leg_leave(l) || l->final)
				return;
		}
		delay = resume_next_delay_ms(&l->res, w->reconnect_initial_ms,
		    w->reconnect_max_ms);
	}
	wlog(level, l->log_id, l->runtime_id, "upstream reconnect in %u ms",
	    delay);
	l->reconnect_scheduled = true;
	lws_sul_schedule(l->p->ctx, 0, &l->sul_reconnect, leg_reconnect_cb,
	    (lws_usec_t)delay * LWS_US_PER_MS);
}

static void
leg_connect_timeout_cb(lws_sorted_usec_list_t *sul)
{
	struct leg *l = lws_container_of(sul, struct leg, sul_connect_to);

	wlog(leg_log_level(l, WLOG_WARN), l->log_id, l->runtime_id,
	    "connect to %s timed out after %ld ms", l->rt->base_url,
	    l->rt->connect_timeout_ms);
	wsm_upstream_connect(l->p->metrics, l->runtime_id, WSM_CONNECT_TIMEOUT);
	l->addr_next++;
	leg_enter(l);
	leg_drop(l);
	leg_lost(l);
	leg_leave(l);
}

/* ---- connecting ---------------------------------------------------- */

/* Switches to a reloaded config: its URL and token for this runtime, or
 * the end of the stream when the runtime was removed (never the old URL
 * and token again). false: finished. */
static bool
leg_take_config(struct leg *l)
{
	const struct registry_runtime *rt;
	struct proxy *p = l->p;

	if (p->cfg == l->cfg)
		return true;
	rt = registry_find(p->cfg->reg, l->runtime_id);
	if (!rt) {
		wlog(WLOG_INFO, l->log_id, l->runtime_id, "runtime no longer "
		    "configured: stream ended");
		leg_finish(l, FRAME_DIAG_RUNTIME_NOT_FOUND,
		    LWS_CLOSE_STATUS_NORMAL);
		return false;
	}
	proxy_cfg_unref(l->cfg);
	l->cfg = proxy_cfg_ref(p->cfg);
	l->rt = rt;
	l->addr_next = 0;
	return true;
}

/* Fills the address, Host and port of ci; false: finished. */
static bool
leg_address(struct leg *l, struct lws_client_connect_info *ci,
    char **address, char **host)
{
	const struct registry_runtime *rt = l->rt;
	const struct resolve_addrs *a;
	bool v6, dflt;

	if (rt->transport == REGISTRY_TRANSPORT_UNIX) {
		*address = xasprintf("+%s", rt->unix_path);
		*host = xstrdup("localhost");
		ci->port = 0;
		return true;
	}
	a = &l->cfg->addrs[rt->index];
	if (!a->n) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id, "%s did not resolve "
		    "at the last (re)load: stream refused", rt->host);
		wsm_upstream_connect(l->p->metrics, l->runtime_id,
		    WSM_CONNECT_UNRESOLVED);
		leg_finish(l, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
		return false;
	}
	v6 = strchr(rt->host, ':') != NULL;
	dflt = (rt->transport == REGISTRY_TRANSPORT_HTTPS && rt->port == 443) ||
	    (rt->transport == REGISTRY_TRANSPORT_HTTP && rt->port == 80);
	/* Numeric: lws's getaddrinfo never blocks on DNS. The Host header
	 * and the TLS server name (lws takes both from ci.host) stay the
	 * configured name. */
	*address = xstrdup(a->addr[l->addr_next % a->n]);
	snprintf(l->addr, sizeof(l->addr), "%s", *address);
	if (dflt)
		*host = xasprintf(v6 ? "[%s]" : "%s", rt->host);
	else
		*host = xasprintf(v6 ? "[%s]:%d" : "%s:%d", rt->host, rt->port);
	ci->port = rt->port;
	return true;
}

/* Opens the connection with the resume cursor. Any failure ends in
 * leg_lost (reconnect) or leg_finish. */
static void
leg_connect(struct leg *l)
{
	struct proxy *p = l->p;
	struct lws_client_connect_info ci;
	const struct registry_runtime *rt;
	struct clientvh *cvh;
	char *path = NULL, *address = NULL, *host = NULL;
	struct lws *wsi;

	if (l->final || l->wsi || l->doomed)
		return;
	if (!leg_take_config(l))
		return;
	rt = l->rt;
	l->rx_max = l->cfg->reg->max_upstream_body_bytes;
	if (l->rx_max > proxy_event_max(l->cfg->reg))
		l->rx_max = proxy_event_max(l->cfg->reg);
	l->had_cursor = resume_connect_cursor(&l->res) != NULL;
	path = upgrade_upstream_path(rt->base_path, l->worker_id,
	    l->worker_id_len, resume_connect_cursor(&l->res));
	if (!path) {
		leg_finish(l, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
		goto out;
	}
	memset(&ci, 0, sizeof(ci));
	ci.context = p->ctx;
	if (!leg_address(l, &ci, &address, &host))
		goto out;
	/* lws 4.1 would follow a 3xx answer to the upgrade and send the
	 * Authorization header again, to whatever host Location names. */
	ci.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	if (rt->transport == REGISTRY_TRANSPORT_HTTPS) {
		ci.ssl_connection |= LCCSCF_USE_SSL;
		if (!rt->tls.verify)
			ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
			    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
			    LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
	}
	cvh = clientvh_get(p->cvhs, &rt->tls, rt->id);
	if (!cvh) {
		wsm_upstream_connect(p->metrics, l->runtime_id,
		    WSM_CONNECT_LOCAL);
		leg_finish(l, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
		goto out;
	}
	ci.vhost = clientvh_vhost(cvh);
	ci.address = address;
	ci.path = path;
	ci.host = host;
	ci.local_protocol_name = "wrg-upstream";
	ci.opaque_user_data = l;
	ci.retry_and_idle_policy = p->policy;
	wlog(WLOG_DEBUG, l->log_id, l->runtime_id, "connecting to %s%s (%s)",
	    rt->base_url, path, address);
	l->gone_seen = false;
	l->unbuildable = false;
	lws_sul_schedule(p->ctx, 0, &l->sul_connect_to,
	    leg_connect_timeout_cb,
	    (lws_usec_t)rt->connect_timeout_ms * LWS_US_PER_MS);
	clientvh_connect_begin(cvh);
	wsi = lws_client_connect_via_info(&ci);
	clientvh_connect_end(cvh, wsi);
	if (l->gone_seen || l->final) {
		/* CONNECTION_ERROR already ran inside the call (and planned
		 * the retry, or finished): whatever was returned is gone. */
		l->wsi = NULL;
	} else if (!wsi) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id,
		    "cannot start a connection to %s", rt->base_url);
		wsm_upstream_connect(p->metrics, l->runtime_id,
		    WSM_CONNECT_LOCAL);
		leg_lost(l);
	} else {
		l->wsi = wsi;
		l->cvh = cvh;
		clientvh_leg_add(cvh);
		if (l->paused)
			lws_rx_flow_control(wsi, 0);
	}
out:
	free(path);
	free(address);
	free(host);
}

void
leg_start(struct leg *l)
{
	leg_enter(l);
	lws_sul_cancel(&l->sul_reconnect);
	l->reconnect_scheduled = false;
	leg_connect(l);
	leg_leave(l);
}

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
	if (wjson_cost(l->rx, l->rx_len) > wjson_cost_budget(l->rx_max,
	    WJSON_COST_FLOOR)) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id, "runtime frame of "
		    "%zu bytes is over the parse budget", l->rx_len);
		goto fail;
	}
	e = l->rx_len ? frame_parse(l->rx, l->rx_len, l->runtime_id, &in) :
	    FRAME_ERR_JSON;
	if (e != FRAME_OK) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id, "%s (%zu bytes)",
		    frame_strerror(e), l->rx_len);
		goto fail;
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
		free(in.out);
		goto fail;
	}
	leg_event(l, &in);
	free(in.out);
	return l->final || l->doomed || !l->wsi ? -1 : 0;
fail:
	leg_finish(l, FRAME_DIAG_RUNTIME_UNAVAILABLE,
	    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
	return -1;
}

/* Appends one piece of a runtime message; -1: the leg finished. */
static int
leg_rx_append(struct leg *l, struct lws *wsi, const void *in, size_t len)
{
	if (lws_frame_is_binary(wsi)) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id,
		    "runtime sent a binary frame");
		goto fail;
	}
	if (len > l->rx_max || l->rx_len > l->rx_max - len) {
		wlog(WLOG_WARN, l->log_id, l->runtime_id,
		    "runtime message over %zu bytes", l->rx_max);
		goto fail;
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
fail:
	leg_finish(l, FRAME_DIAG_RUNTIME_UNAVAILABLE,
	    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
	return -1;
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

	if (!tok)
		return 0;
	val = xasprintf("Bearer %s", tok);
	r = lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
	    (unsigned char *)val, (int)strlen(val), pp, end);
	explicit_bzero(val, strlen(val));
	free(val);
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

static void
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
	    why ? why : "-", status);
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
	if (!l) {
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
