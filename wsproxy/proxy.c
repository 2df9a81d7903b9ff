/*
 * proxy — wrg-wsproxy's event loop: browsers connect to the server vhost
 * (protocol "wrg-events", first in its list so browsers that name no
 * subprotocol bind to it), each gets one session, and the session keeps
 * one lws client connection to the runtime (protocol "wrg-upstream").
 *
 * Ownership (who frees what):
 *  - A struct session is owned by its browser connection. It is created
 *    at LWS_CALLBACK_ESTABLISHED and freed at LWS_CALLBACK_CLOSED of the
 *    browser wsi (or at exit for any left).
 *  - The upstream wsi only borrows the session, through its opaque user
 *    data. Whoever ends the upstream leg first detaches it (opaque pointer
 *    set to NULL, session->upstream = NULL) and only then lets lws kill
 *    it, so no upstream callback ever sees a freed session; every
 *    upstream callback ignores a wsi whose opaque pointer is NULL.
 *  - A session holds one reference on the config (struct proxy_cfg) it
 *    uses, so a SIGHUP reload never frees a registry a stream still needs.
 *  - Timers (reconnect, connect timeout, healthy leg) live in the session
 *    and are cancelled before it is freed.
 *
 * Everything runs on the one lws service thread; signal handlers only set
 * flags, which a PROXY_SIG_POLL_US timer looks at. The one exception is a
 * SIGHUP's config load (file + DNS), which runs in reload.c's thread; it
 * wakes the loop (lws_cancel_service) and the loop swaps the result in.
 */
#include "proxy.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libwebsockets.h>

#include "clientvh.h"
#include "frame.h"
#include "metrics.h"
#include "front.h"
#include "hdrgate.h"
#include "ids.h"
#include "reload.h"
#include "resolve.h"
#include "resume.h"
#include "route.h"
#include "sendq.h"
#include "upgrade.h"
#include "wjson.h"
#include "wlog.h"
#include "xalloc.h"

/* How long a browser that is being closed may take to read its last
 * frames, and how long shutdown waits for all of them. */
#define PROXY_CLOSE_GRACE_S 10
#define PROXY_SHUTDOWN_MAX_US (8 * LWS_US_PER_SEC)
/* How much bigger than the runtime's frame the browser frame of one
 * event can get: the registry runtime_id put in (ids are <= 64 bytes),
 * with its key and quotes, and slack. */
#define PROXY_FRAME_OVERHEAD 256
/* How often the service loop looks at the signal flags. */
#define PROXY_SIG_POLL_US (100 * LWS_US_PER_MS)
/* lws builds a client handshake in its per-thread serve buffer (default
 * 4096). The biggest one the config allows: request line with base_path
 * and a worker id escaped three times over (< 2048 + 3 * 256 + 128),
 * Host (< 2048), "Authorization: Bearer " + a 4096-byte token, and lws'
 * own ~500 bytes: < 9.6 KiB. 16 KiB holds it with room to spare. */
#define PROXY_SERV_BUF_SIZE (16 * 1024)

struct proxy_cfg {
	struct registry *reg;
	/* Numeric addresses of each TCP runtime (by registry_runtime
	 * index), resolved when the config was loaded; n == 0: the host
	 * did not resolve and the runtime is unavailable until a reload. */
	struct resolve_addrs *addrs;
	unsigned refs;
};

struct proxy {
	struct lws_context *ctx;
	struct lws_vhost *server;	/* serves what the gate passes */
	struct hdrgate *gate;		/* owns the listening socket */
	struct proxy_cfg *cfg;
	const char *config_path;
	struct reload *reloader;	/* SIGHUP loads, off this thread */
	struct clientvh_set *cvhs;	/* upstream vhosts, by TLS files */
	struct wsm *metrics;		/* NULL: no wsproxy.metrics_listen */
	lws_dll2_owner_t sessions;
	unsigned browsers;
	bool shutting_down;
	bool done;
	lws_sorted_usec_list_t sul_shutdown;
	lws_sorted_usec_list_t sul_sig;
	lws_retry_bo_t ws_policy;
	const lws_retry_bo_t *policy;	/* &ws_policy, or NULL: no pings */
};

struct session {
	lws_dll2_t list;
	struct proxy *p;
	struct proxy_cfg *cfg;			/* one reference */
	const struct registry_runtime *rt;	/* borrowed from cfg */
	char id[IDS_REQUEST_ID_MAX + 1];	/* for logs */
	char runtime_id[IDS_RUNTIME_ID_MAX + 1];
	char worker_id[IDS_WORKER_ID_MAX + 1];
	size_t worker_id_len;
	struct lws *browser;
	struct lws *upstream;
	struct clientvh *cvh;			/* upstream's vhost */
	struct sendq *q;
	struct resume res;
	char *rx;				/* upstream reassembly */
	size_t rx_len, rx_cap, rx_max;
	unsigned addr_next;			/* which address to try */
	char addr[RESOLVE_ADDR_LEN];		/* last one tried, for logs */
	lws_sorted_usec_list_t sul_reconnect;
	lws_sorted_usec_list_t sul_connect_to;
	lws_sorted_usec_list_t sul_healthy;	/* the leg stayed up */
	bool reconnect_scheduled;
	bool announced;		/* upstream_reconnecting sent this outage */
	bool immediate;		/* next reconnect without delay or notice */
	bool final;		/* no more upstream connects */
	bool upstream_gone_seen;
	bool conn_had_cursor;	/* this upstream leg was asked ?cursor= */
	bool handshake_unbuildable;	/* our headers did not fit lws' buffer */
	bool leg_counted;	/* metrics: this leg is in legs_open */
	int closing;		/* close code once the queue drained */
};

struct browser_pss {
	struct session *s;
};

static volatile sig_atomic_t proxy_sig_term, proxy_sig_hup;

static void session_connect(struct session *s);
static void proxy_reload(struct proxy *p, struct reload_result *res);
static void proxy_reload_take(struct proxy *p);
static int proxy_client_cb(struct lws *wsi,
    enum lws_callback_reasons reason, void *user, void *in, size_t len);

static const struct lws_protocols proxy_client_protocols[] = {
	{ "wrg-upstream", proxy_client_cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- config references ------------------------------------------ */

/* Takes reg and addrs (resolve_registry's, for reg). */
static struct proxy_cfg *
cfg_new(struct registry *reg, struct resolve_addrs *addrs)
{
	struct proxy_cfg *c = xcalloc(1, sizeof(*c));

	c->reg = reg;
	c->addrs = addrs;
	c->refs = 1;
	return c;
}

static struct proxy_cfg *
cfg_ref(struct proxy_cfg *c)
{
	c->refs++;
	return c;
}

static void
cfg_unref(struct proxy_cfg *c)
{
	if (!c || --c->refs)
		return;
	registry_free(c->reg);
	free(c->addrs);
	free(c);
}

/* ---- browser side: queue, diagnostics, close --------------------- */

/* The session lets go of its upstream leg (the wsi's opaque pointer is
 * the caller's business): one leg less on its client vhost, which may
 * retire a stale one. */
static void
session_detach_upstream(struct session *s)
{
	s->upstream = NULL;
	wsm_leg_down(s->p->metrics, s->runtime_id, &s->leg_counted);
	clientvh_leg_done(s->cvh);
	s->cvh = NULL;
}

/* Detaches the upstream wsi from s and has lws kill it. */
static void
session_drop_upstream(struct session *s)
{
	struct lws *u = s->upstream;

	lws_sul_cancel(&s->sul_connect_to);
	lws_sul_cancel(&s->sul_healthy);
	if (!u)
		return;
	session_detach_upstream(s);
	lws_set_opaque_user_data(u, NULL);
	lws_set_timeout(u, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
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
	s->final = true;
	lws_sul_cancel(&s->sul_reconnect);
	s->reconnect_scheduled = false;
	session_drop_upstream(s);
	if (clear)
		sendq_clear(s->q);
	json = frame_diag_json(d, &len);
	sendq_push(s->q, json, len, 1);
	free(json);
	s->closing = code;
	if (s->browser) {
		lws_set_timeout(s->browser, PENDING_TIMEOUT_USER_OK,
		    PROXY_CLOSE_GRACE_S);
		lws_callback_on_writable(s->browser);
	}
}

/* The largest runtime message accepted: one that the send queue can
 * always hold as one browser frame, even when empty. */
static size_t
session_event_max(const struct session *s)
{
	size_t cap = sendq_cap(s->q);

	return cap > PROXY_FRAME_OVERHEAD * 2 ? cap - PROXY_FRAME_OVERHEAD :
	    cap / 2;
}

/* Queues one frame for the browser; past the cap the browser is a slow
 * consumer and both legs are closed. A frame bigger than the whole queue
 * is the runtime's fault, not the browser's: runtime_unavailable. */
static void
session_send(struct session *s, const char *data, size_t len)
{
	if (s->closing || !s->browser)
		return;
	if (len > sendq_cap(s->q)) {
		wlog(WLOG_WARN, s->id, s->runtime_id,
		    "event of %zu bytes is over the send queue cap (%zu)",
		    len, sendq_cap(s->q));
		session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
		return;
	}
	if (sendq_push(s->q, data, len, 0) != SENDQ_OK) {
		wsm_slow_consumer(s->p->metrics);
		wlog(WLOG_WARN, s->id, s->runtime_id,
		    "browser send queue full (%zu bytes queued): slow "
		    "consumer", sendq_bytes(s->q));
		session_finish(s, FRAME_DIAG_SLOW_CONSUMER,
		    LWS_CLOSE_STATUS_POLICY_VIOLATION, true);
		return;
	}
	lws_callback_on_writable(s->browser);
}

static void
session_send_diag(struct session *s, enum frame_diag d)
{
	char *json;
	size_t len;

	json = frame_diag_json(d, &len);
	session_send(s, json, len);
	free(json);
}

/* ---- upstream side ------------------------------------------------ */

static void
session_reconnect_cb(lws_sorted_usec_list_t *sul)
{
	struct session *s = lws_container_of(sul, struct session,
	    sul_reconnect);

	s->reconnect_scheduled = false;
	wsm_reconnect(s->p->metrics);
	session_connect(s);
}

/* How loudly to log a step of the upstream leg: the first of an outage
 * at level, the rest at debug (a runtime failing every attempt would
 * otherwise fill the log at the backoff's pace). */
static enum wlog_level
session_log_level(const struct session *s, enum wlog_level level)
{
	return s->announced ? WLOG_DEBUG : level;
}

/* The upstream leg proved healthy: it delivered an event after its
 * snapshot, or stayed up reconnect_max_ms. Only now does the backoff
 * start over and does a later drop count as a new outage: a runtime
 * that accepts the upgrade and closes at once gets the growing delay and
 * the browser hears of it once, not at every attempt. */
static void
session_leg_healthy(struct session *s)
{
	lws_sul_cancel(&s->sul_healthy);
	if (s->announced)
		wlog(WLOG_INFO, s->id, s->runtime_id, "upstream back after "
		    "%u attempts", s->res.attempt);
	resume_on_healthy(&s->res);
	s->announced = false;
}

static void
session_healthy_cb(lws_sorted_usec_list_t *sul)
{
	session_leg_healthy(lws_container_of(sul, struct session,
	    sul_healthy));
}

/* The upstream leg ended (already detached). Unless the stream is over,
 * tell the browser once per outage and reconnect after the backoff. */
static void
session_upstream_lost(struct session *s)
{
	const struct registry_wsproxy *w = &s->cfg->reg->wsproxy;
	enum wlog_level level = session_log_level(s, WLOG_INFO);
	unsigned delay;

	s->upstream_gone_seen = true;
	lws_sul_cancel(&s->sul_connect_to);
	lws_sul_cancel(&s->sul_healthy);
	if (s->final || !s->browser || s->closing || s->reconnect_scheduled)
		return;
	if (s->immediate) {
		s->immediate = false;
		delay = 0;
	} else {
		if (!s->announced) {
			s->announced = true;
			session_send_diag(s, FRAME_DIAG_UPSTREAM_RECONNECTING);
			if (s->closing)
				return;
		}
		delay = resume_next_delay_ms(&s->res, w->reconnect_initial_ms,
		    w->reconnect_max_ms);
	}
	wlog(level, s->id, s->runtime_id, "upstream reconnect in %u ms",
	    delay);
	s->reconnect_scheduled = true;
	lws_sul_schedule(s->p->ctx, 0, &s->sul_reconnect,
	    session_reconnect_cb, (lws_usec_t)delay * LWS_US_PER_MS);
}

static void
session_connect_timeout_cb(lws_sorted_usec_list_t *sul)
{
	struct session *s = lws_container_of(sul, struct session,
	    sul_connect_to);

	wlog(session_log_level(s, WLOG_WARN), s->id, s->runtime_id,
	    "connect to %s timed out after %ld ms", s->rt->base_url,
	    s->rt->connect_timeout_ms);
	wsm_upstream_connect(s->p->metrics, s->runtime_id, WSM_CONNECT_TIMEOUT);
	s->addr_next++;
	session_drop_upstream(s);
	session_upstream_lost(s);
}

/* Opens the upstream leg with the resume cursor. Any failure ends in
 * session_upstream_lost (reconnect) or session_finish. */
static void
session_connect(struct session *s)
{
	struct proxy *p = s->p;
	struct lws_client_connect_info ci;
	const struct registry_runtime *rt;
	struct clientvh *cvh;
	char *path = NULL, *address = NULL, *host = NULL;
	struct lws *wsi;

	if (s->final || !s->browser || s->closing || s->upstream)
		return;
	/* Switch to a reloaded config: its URL and token for this runtime,
	 * or the end of the stream when the runtime was removed (never the
	 * old URL and token again). */
	if (p->cfg != s->cfg) {
		rt = registry_find(p->cfg->reg, s->runtime_id);
		if (!rt) {
			wlog(WLOG_INFO, s->id, s->runtime_id, "runtime no "
			    "longer configured: stream ended");
			session_finish(s, FRAME_DIAG_RUNTIME_NOT_FOUND,
			    LWS_CLOSE_STATUS_NORMAL, false);
			return;
		}
		cfg_unref(s->cfg);
		s->cfg = cfg_ref(p->cfg);
		s->rt = rt;
		s->addr_next = 0;
	}
	rt = s->rt;
	/* One event must fit the send queue as one frame: a bigger one
	 * could never be delivered, whatever the browser's speed. */
	s->rx_max = s->cfg->reg->max_upstream_body_bytes;
	if (s->rx_max > session_event_max(s))
		s->rx_max = session_event_max(s);
	s->conn_had_cursor = resume_connect_cursor(&s->res) != NULL;
	path = upgrade_upstream_path(rt->base_path, s->worker_id,
	    s->worker_id_len, resume_connect_cursor(&s->res));
	if (!path) {
		session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
		goto out;
	}
	memset(&ci, 0, sizeof(ci));
	ci.context = p->ctx;
	if (rt->transport == REGISTRY_TRANSPORT_UNIX) {
		address = xasprintf("+%s", rt->unix_path);
		host = xstrdup("localhost");
		ci.port = 0;
	} else {
		const struct resolve_addrs *a = &s->cfg->addrs[rt->index];
		bool v6 = strchr(rt->host, ':') != NULL;
		bool dflt = (rt->transport == REGISTRY_TRANSPORT_HTTPS &&
		    rt->port == 443) || (rt->transport ==
		    REGISTRY_TRANSPORT_HTTP && rt->port == 80);

		if (!a->n) {
			wlog(WLOG_WARN, s->id, s->runtime_id, "%s did not "
			    "resolve at the last (re)load: stream refused",
			    rt->host);
			wsm_upstream_connect(p->metrics, s->runtime_id,
			    WSM_CONNECT_UNRESOLVED);
			session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
			    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
			goto out;
		}
		/* Numeric: lws's getaddrinfo never blocks on DNS. The Host
		 * header and the TLS server name (lws takes both from
		 * ci.host) stay the configured name. */
		address = xstrdup(a->addr[s->addr_next % a->n]);
		snprintf(s->addr, sizeof(s->addr), "%s", address);
		if (dflt)
			host = xasprintf(v6 ? "[%s]" : "%s", rt->host);
		else
			host = xasprintf(v6 ? "[%s]:%d" : "%s:%d", rt->host,
			    rt->port);
		ci.port = rt->port;
	}
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
		wsm_upstream_connect(p->metrics, s->runtime_id,
		    WSM_CONNECT_LOCAL);
		session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
		goto out;
	}
	ci.vhost = clientvh_vhost(cvh);
	ci.address = address;
	ci.path = path;
	ci.host = host;
	ci.origin = NULL;
	ci.protocol = NULL;
	ci.local_protocol_name = "wrg-upstream";
	ci.opaque_user_data = s;
	ci.retry_and_idle_policy = p->policy;
	wlog(WLOG_DEBUG, s->id, s->runtime_id, "connecting to %s%s (%s)",
	    rt->base_url, path, address);
	s->upstream_gone_seen = false;
	s->handshake_unbuildable = false;
	lws_sul_schedule(p->ctx, 0, &s->sul_connect_to,
	    session_connect_timeout_cb,
	    (lws_usec_t)rt->connect_timeout_ms * LWS_US_PER_MS);
	clientvh_connect_begin(cvh);
	wsi = lws_client_connect_via_info(&ci);
	clientvh_connect_end(cvh, wsi);
	if (s->upstream_gone_seen) {
		/* CONNECTION_ERROR already ran inside the call (and planned
		 * the retry): whatever was returned is gone. */
		s->upstream = NULL;
	} else if (!wsi) {
		s->upstream = NULL;
		wlog(WLOG_WARN, s->id, s->runtime_id,
		    "cannot start a connection to %s", rt->base_url);
		wsm_upstream_connect(p->metrics, s->runtime_id,
		    WSM_CONNECT_LOCAL);
		session_upstream_lost(s);
	} else {
		s->upstream = wsi;
		s->cvh = cvh;
		clientvh_leg_add(cvh);
	}
out:
	free(path);
	free(address);
	free(host);
}

/* Handles one complete runtime message. Returns -1 when the upstream leg
 * must be closed (already detached by then). */
static int
session_upstream_message(struct session *s)
{
	struct frame_in in;
	enum frame_err e;

	/* json-c can need hundreds of times a frame's bytes (a frame of
	 * "{}," costs ~265 times its size): cost it before parsing, as
	 * wrg.fcgi does runtime answers. */
	if (wjson_cost(s->rx, s->rx_len) > wjson_cost_budget(s->rx_max,
	    WJSON_COST_FLOOR)) {
		wlog(WLOG_WARN, s->id, s->runtime_id, "runtime frame of %zu "
		    "bytes is over the parse budget", s->rx_len);
		session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
		return -1;
	}
	e = s->rx_len ? frame_parse(s->rx, s->rx_len, s->runtime_id, &in) :
	    FRAME_ERR_JSON;
	if (e != FRAME_OK) {
		wlog(WLOG_WARN, s->id, s->runtime_id, "%s (%zu bytes)",
		    frame_strerror(e), s->rx_len);
		session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
		return -1;
	}
	if (in.kind == FRAME_EVENT && (strlen(in.worker_id) !=
	    s->worker_id_len || memcmp(in.worker_id, s->worker_id,
	    s->worker_id_len) != 0)) {
		/* Another worker's event on this worker's stream: a
		 * confused or hostile runtime; nothing of it is passed. */
		wlog(WLOG_WARN, s->id, s->runtime_id, "runtime sent an event "
		    "of another worker on this stream");
		free(in.out);
		session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
		    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
		return -1;
	}
	if (in.kind == FRAME_EVENT) {
		if (!in.snapshot)
			session_leg_healthy(s);
		if (resume_on_event(&s->res, in.cursor, in.snapshot) ==
		    RESUME_FORWARD)
			session_send(s, in.out, in.out_len);
		free(in.out);
		return s->closing ? -1 : 0;
	}
	wlog(WLOG_INFO, s->id, s->runtime_id, "runtime diagnostic %s",
	    in.runtime_code);
	switch (in.action) {
	case FRAME_ACT_CLOSE:
		session_finish(s, in.diag, LWS_CLOSE_STATUS_NORMAL, false);
		return -1;
	case FRAME_ACT_RESYNC:
		/* Without a cursor there is nothing to resync from: a
		 * confused runtime gets the normal backoff, not a loop. */
		if (!s->conn_had_cursor)
			break;
		resume_on_expired(&s->res);
		wsm_resync(s->p->metrics);
		session_send_diag(s, FRAME_DIAG_RESYNCED);
		s->immediate = true;
		break;
	case FRAME_ACT_RECONNECT:
		break;
	}
	/* The runtime closes after any diagnostic: do it now. */
	session_drop_upstream(s);
	session_upstream_lost(s);
	return -1;
}

static int
proxy_client_cb(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct session *s = lws_get_opaque_user_data(wsi);
	unsigned status;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **pp = (unsigned char **)in, *end = *pp + len;
		const char *tok;
		char *val;
		int r;

		if (!s)
			return -1;
		tok = registry_token(s->cfg->reg, s->rt);
		if (!tok)
			break;
		val = xasprintf("Bearer %s", tok);
		r = lws_add_http_header_by_token(wsi,
		    WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)val,
		    (int)strlen(val), pp, end);
		explicit_bzero(val, strlen(val));
		free(val);
		if (r) {
			/* lws then frees the wsi without CONNECTION_ERROR
			 * (see WSI_DESTROY below); retrying cannot help. */
			wlog(WLOG_ERR, s->id, s->runtime_id, "the upstream "
			    "handshake does not fit lws' buffer (token of "
			    "%zu bytes)", strlen(tok));
			s->handshake_unbuildable = true;
			return -1;
		}
		break;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!s)
			return -1;
		lws_sul_cancel(&s->sul_connect_to);
		lws_sul_schedule(s->p->ctx, 0, &s->sul_healthy,
		    session_healthy_cb, (lws_usec_t)
		    s->cfg->reg->wsproxy.reconnect_max_ms * LWS_US_PER_MS);
		s->rx_len = 0;
		wsm_upstream_connect(s->p->metrics, s->runtime_id,
		    WSM_CONNECT_OK);
		wsm_leg_up(s->p->metrics, s->runtime_id, &s->leg_counted);
		wlog(session_log_level(s, WLOG_INFO), s->id, s->runtime_id,
		    "upstream connected to %s%s%s%s", s->rt->base_url,
		    s->addr[0] ? " (" : "", s->addr, s->addr[0] ? ")" : "");
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (!s)
			break;
		status = lws_http_client_http_response(wsi);
		wsm_upstream_connect(s->p->metrics, s->runtime_id,
		    wsm_connect_status(status));
		wlog(session_log_level(s, WLOG_WARN), s->id, s->runtime_id,
		    "upstream connect to %s failed: %s (HTTP %u)",
		    s->rt->base_url, in ? (const char *)in : "-", status);
		lws_set_opaque_user_data(wsi, NULL);
		/* Not stored yet when this runs inside the connect call. */
		if (s->upstream == wsi)
			session_detach_upstream(s);
		if (status >= 300 && status < 500) {
			/* Refused (token, route) or redirected (never
			 * followed: the token would go along): retrying
			 * cannot help. */
			s->upstream_gone_seen = true;
			session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
			    LWS_CLOSE_STATUS_NORMAL, false);
			break;
		}
		if (!status)
			s->addr_next++;	/* next address, if several */
		session_upstream_lost(s);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!s)
			return -1;
		if (lws_frame_is_binary(wsi)) {
			wlog(WLOG_WARN, s->id, s->runtime_id,
			    "runtime sent a binary frame");
			session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
			    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
			return -1;
		}
		if (len > s->rx_max || s->rx_len > s->rx_max - len) {
			wlog(WLOG_WARN, s->id, s->runtime_id,
			    "runtime message over %zu bytes", s->rx_max);
			session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
			    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
			return -1;
		}
		if (s->rx_len + len > s->rx_cap) {
			size_t ncap = s->rx_cap ? s->rx_cap : 4096;

			while (ncap < s->rx_len + len)
				ncap *= 2;
			if (ncap > s->rx_max)
				ncap = s->rx_max;
			s->rx = xrealloc(s->rx, ncap);
			s->rx_cap = ncap;
		}
		if (len) {
			memcpy(s->rx + s->rx_len, in, len);
			s->rx_len += len;
		}
		if (!lws_is_final_fragment(wsi) ||
		    lws_remaining_packet_payload(wsi))
			break;
		if (session_upstream_message(s))
			return -1;
		s->rx_len = 0;
		if (s->rx_cap > 65536) {
			free(s->rx);
			s->rx = NULL;
			s->rx_cap = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!s)
			break;
		wlog(session_log_level(s, WLOG_INFO), s->id, s->runtime_id,
		    "upstream closed");
		lws_set_opaque_user_data(wsi, NULL);
		if (s->upstream == wsi)
			session_detach_upstream(s);
		s->rx_len = 0;
		session_upstream_lost(s);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		/* Runs for every client wsi lws frees through its close
		 * path (it calls protocols[0] of the wsi's vhost, and client
		 * vhosts hold only this protocol). Every leg that ended
		 * through CONNECTION_ERROR, CLIENT_CLOSED or our own
		 * session_drop_upstream was detached already; a session
		 * still attached here means lws freed the wsi without
		 * telling us otherwise (lws 4.1: a handshake it could not
		 * build or write, "chs"/"cws" in client-http.c). */
		clientvh_wsi_gone(((struct proxy *)lws_context_user(
		    lws_get_context(wsi)))->cvhs, lws_get_vhost(wsi));
		if (!s)
			break;
		lws_set_opaque_user_data(wsi, NULL);
		if (s->upstream == wsi)
			session_detach_upstream(s);
		s->rx_len = 0;
		wsm_upstream_connect(s->p->metrics, s->runtime_id,
		    s->handshake_unbuildable ? WSM_CONNECT_LOCAL :
		    WSM_CONNECT_LOST);
		if (s->handshake_unbuildable) {
			s->upstream_gone_seen = true;
			session_finish(s, FRAME_DIAG_RUNTIME_UNAVAILABLE,
			    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false);
			break;
		}
		/* Once per outage, as for a refused connect (a Unix
		 * socket that is missing ends here at every attempt). */
		wlog(session_log_level(s, WLOG_WARN), s->id, s->runtime_id,
		    "upstream connection to %s ended before the handshake",
		    s->rt->base_url);
		session_upstream_lost(s);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- browser connections ----------------------------------------- */

/* Writes a complete HTTP/1.1 refusal with "Connection: close"; the
 * caller then hangs up, so the connection is never reused. (lws's own
 * status helper says HTTP/1.0 this early in the request, which some
 * WebSocket clients refuse to parse.) */
static void
proxy_refuse(struct lws *wsi, unsigned status, const char *body)
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
proxy_hdr(struct lws *wsi, enum lws_token_indexes h)
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
proxy_check(struct proxy *p, struct lws *wsi, struct route *rt)
{
	const struct front_req *req = front_req_of(wsi);
	char *origin = proxy_hdr(wsi, WSI_TOKEN_ORIGIN);
	char *host = proxy_hdr(wsi, WSI_TOKEN_HOST);
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
proxy_cursor_arg(struct proxy *p, struct lws *wsi, char *out, size_t cap)
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

static void
session_free(struct session *s)
{
	if (!s)
		return;
	lws_sul_cancel(&s->sul_reconnect);
	lws_sul_cancel(&s->sul_connect_to);
	lws_sul_cancel(&s->sul_healthy);
	session_drop_upstream(s);
	lws_dll2_remove(&s->list);
	sendq_free(s->q);
	free(s->rx);
	cfg_unref(s->cfg);
	free(s);
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
	s->cfg = cfg_ref(p->cfg);
	s->q = sendq_new(reg->wsproxy.send_queue_max_bytes, LWS_PRE);
	ids_request_id_generate(s->id);
	lws_dll2_add_tail(&s->list, &p->sessions);

	if (proxy_check(p, wsi, &rt) != UPGRADE_OK) {
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
	s->rt = registry_find(reg, s->runtime_id);
	if (!s->rt) {
		wlog(WLOG_INFO, s->id, s->runtime_id,
		    "stream refused: runtime not configured");
		wsm_refused(p->metrics, WSM_REFUSED_RUNTIME_NOT_FOUND);
		session_finish(s, FRAME_DIAG_RUNTIME_NOT_FOUND,
		    LWS_CLOSE_STATUS_NORMAL, false);
		return s;
	}
	c = proxy_cursor_arg(p, wsi, cursor, sizeof(cursor));
	if (c < 0) {
		wlog(WLOG_INFO, s->id, s->runtime_id,
		    "stream refused: malformed cursor");
		wsm_refused(p->metrics, WSM_REFUSED_CURSOR_MALFORMED);
		session_finish(s, FRAME_DIAG_CURSOR_MALFORMED,
		    LWS_CLOSE_STATUS_NORMAL, false);
		return s;
	}
	resume_init(&s->res, c > 0 ? cursor : NULL);
	wlog(WLOG_INFO, s->id, s->runtime_id, "stream opened: worker %s%s",
	    s->worker_id, c > 0 ? ", with a cursor" : "");
	session_connect(s);
	return s;
}

static int
proxy_browser_cb(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct proxy *p = lws_context_user(lws_get_context(wsi));
	struct browser_pss *pss = user;
	struct session *s = pss ? pss->s : NULL;
	enum upgrade_result r;
	struct route rt;
	unsigned char *buf;
	size_t blen;

	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* RFC 6455: the Upgrade token is case-insensitive. */
		if (!in || strcasecmp((const char *)in, "websocket") != 0) {
			wsm_refused(p->metrics, WSM_REFUSED_NOT_WEBSOCKET);
			proxy_refuse(wsi, 404, upgrade_http_body(
			    UPGRADE_NOT_FOUND));
			return -1;
		}
		if (p->shutting_down) {
			wsm_refused(p->metrics, WSM_REFUSED_SHUTTING_DOWN);
			proxy_refuse(wsi, 503, "{\"error\":{\"code\":"
			    "\"unavailable\",\"message\":\"The gateway is "
			    "shutting down.\"}}");
			return -1;
		}
		if (p->browsers >= p->cfg->reg->wsproxy.max_connections) {
			wlog(WLOG_WARN, NULL, NULL,
			    "upgrade refused: max_connections (%u) reached",
			    p->cfg->reg->wsproxy.max_connections);
			wsm_refused(p->metrics, WSM_REFUSED_MAX_CONNECTIONS);
			proxy_refuse(wsi, 503, "{\"error\":{\"code\":"
			    "\"unavailable\",\"message\":\"Too many event "
			    "streams are open.\"}}");
			return -1;
		}
		r = proxy_check(p, wsi, &rt);
		if (r != UPGRADE_OK) {
			wsm_refused_upgrade(p->metrics, r);
			proxy_refuse(wsi, upgrade_http_status(r),
			    upgrade_http_body(r));
			return -1;
		}
		break;
	case LWS_CALLBACK_HTTP:
		/* Not an upgrade: this daemon serves only event sockets. */
		wsm_refused(p->metrics, WSM_REFUSED_NOT_UPGRADE);
		proxy_refuse(wsi, 404, upgrade_http_body(UPGRADE_NOT_FOUND));
		return -1;
	case LWS_CALLBACK_ESTABLISHED:
		p->browsers++;
		wsm_stream_open(p->metrics);
		pss->s = session_new(p, wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!s)
			break;
		buf = sendq_peek(s->q, &blen);
		if (buf) {
			if (lws_write(wsi, buf, blen, LWS_WRITE_TEXT) <
			    (int)blen) {
				wlog(WLOG_INFO, s->id, s->runtime_id,
				    "browser write failed");
				return -1;
			}
			wsm_relayed(p->metrics, blen);
			sendq_pop(s->q);
		}
		if (sendq_count(s->q)) {
			lws_callback_on_writable(wsi);
		} else if (s->closing) {
			const char *why = "closing";

			lws_close_reason(wsi,
			    (enum lws_close_status)s->closing,
			    (unsigned char *)why, strlen(why));
			return -1;
		}
		break;
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
		if (p->browsers)
			p->browsers--;
		wsm_stream_close(p->metrics);
		if (p->shutting_down && !p->browsers)
			p->done = true;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols proxy_server_protocols[] = {
	{ "wrg-events", proxy_browser_cb, sizeof(struct browser_pss), 4096,
	    0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* The metrics' scrape-time sampler (metrics.h): send queues summed. */
static void
proxy_metrics_sample(void *arg, struct wsm_sample *out)
{
	struct proxy *p = arg;

	lws_start_foreach_dll(struct lws_dll2 *, d,
	    lws_dll2_get_head(&p->sessions)) {
		size_t b = sendq_bytes(lws_container_of(d, struct session,
		    list)->q);

		out->sendq_bytes_sum += b;
		if (b > out->sendq_bytes_max)
			out->sendq_bytes_max = b;
	} lws_end_foreach_dll(d);
}

/* ---- signals, shutdown, reload ----------------------------------- */

/* Only sets a flag. lws_cancel_service() is no async-signal-safe call:
 * it logs (lwsl_debug, whose vsnprintf and our wlog sink must not run
 * inside a handler, e.g. when the signal lands in the middle of another
 * log line). A self-pipe would need its own lws adoption; instead a timer
 * (proxy_sig_poll) wakes the loop every PROXY_SIG_POLL_US and looks at the
 * flags: a reload or shutdown starts at most that much later. */
static void
proxy_on_signal(int sig)
{
	if (sig == SIGHUP)
		proxy_sig_hup = 1;
	else
		proxy_sig_term = 1;
}

static void proxy_shutdown(struct proxy *p);

/* Swaps in a finished background reload, if any (reload.h). Runs when
 * the reload thread woke the loop (EVENT_WAIT_CANCELLED) and at every
 * signal poll. */
static void
proxy_reload_take(struct proxy *p)
{
	struct reload_result *res = reload_take(p->reloader);

	if (res && !p->shutting_down)
		proxy_reload(p, res);
	else
		reload_result_free(res);
}

/* From the reload thread: the one lws call allowed off the service
 * thread. */
static void
proxy_reload_wake(void *arg)
{
	struct proxy *p = arg;

	lws_cancel_service(p->ctx);
}

static void
proxy_sig_poll(lws_sorted_usec_list_t *sul)
{
	struct proxy *p = lws_container_of(sul, struct proxy, sul_sig);

	if (proxy_sig_hup) {
		proxy_sig_hup = 0;
		if (!p->shutting_down) {
			if (reload_request(p->reloader))
				wlog(WLOG_INFO, NULL, NULL, "reload requested "
				    "while one is running: the config is "
				    "loaded once more after it");
			else
				wlog(WLOG_INFO, NULL, NULL, "reloading %s "
				    "(in the background)", p->config_path);
		}
	}
	proxy_reload_take(p);
	if (proxy_sig_term && !p->shutting_down) {
		p->shutting_down = true;
		proxy_shutdown(p);
	}
	lws_sul_schedule(p->ctx, 0, &p->sul_sig, proxy_sig_poll,
	    PROXY_SIG_POLL_US);
}

static void
proxy_shutdown_deadline(lws_sorted_usec_list_t *sul)
{
	struct proxy *p = lws_container_of(sul, struct proxy, sul_shutdown);

	wlog(WLOG_WARN, NULL, NULL, "shutdown: %u browsers did not close "
	    "in time", p->browsers);
	p->done = true;
}

static void
proxy_shutdown(struct proxy *p)
{
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&p->sessions)) {
		struct session *s = lws_container_of(d, struct session, list);

		session_finish(s, FRAME_DIAG_SHUTTING_DOWN,
		    LWS_CLOSE_STATUS_GOINGAWAY, false);
	} lws_end_foreach_dll_safe(d, d1);
	wlog(WLOG_INFO, NULL, NULL, "shutting down: closing %u streams",
	    p->browsers);
	if (!p->browsers)
		p->done = true;
	else
		lws_sul_schedule(p->ctx, 0, &p->sul_shutdown,
		    proxy_shutdown_deadline, PROXY_SHUTDOWN_MAX_US);
}

/* Swaps in a finished background load (reload.h), exactly as a load on
 * this thread would: new streams use it at once, open ones at their next
 * reconnect. Takes res. */
static void
proxy_reload(struct proxy *p, struct reload_result *res)
{
	const struct registry_wsproxy *o = &p->cfg->reg->wsproxy, *n;
	struct registry *reg = res->reg;

	if (!reg) {
		wlog(WLOG_ERR, NULL, NULL, "reload failed, keeping the old "
		    "config: %s", res->err);
		reload_result_free(res);
		return;
	}
	n = &reg->wsproxy;
	if (strcmp(o->listen, n->listen) != 0 ||
	    o->ping_interval_s != n->ping_interval_s ||
	    !o->metrics_listen != !n->metrics_listen ||
	    (o->metrics_listen && strcmp(o->metrics_listen,
	    n->metrics_listen) != 0))
		wlog(WLOG_WARN, NULL, NULL, "reload: wsproxy.listen, "
		    "wsproxy.metrics_listen and wsproxy.ping_interval_s take "
		    "effect only after a restart");
	wlog_set_format(reg->log_json ? WLOG_JSON : WLOG_TEXT);
	cfg_unref(p->cfg);
	p->cfg = cfg_new(reg, res->addrs);
	res->reg = NULL;
	res->addrs = NULL;
	reload_result_free(res);
	wlog(WLOG_INFO, NULL, NULL, "config reloaded from %s (%zu runtimes)",
	    p->config_path, reg->runtime_count);
	clientvh_reload(p->cvhs);
}

/* Creates the browser-facing vhosts: "browser" serves the upgrades but
 * listens nowhere; "browser-gate" listens on wsproxy.listen and passes
 * it only request heads that lws 4.1 parses correctly (lib/hdrgate.h). */
static int
proxy_listen(struct proxy *p)
{
	const struct registry_wsproxy *w = &p->cfg->reg->wsproxy;
	struct lws_context_creation_info info;
	struct lws_vhost *vh;
	struct stat st;
	mode_t um = 0;

	memset(&info, 0, sizeof(info));
	info.vhost_name = "browser";
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = proxy_server_protocols;
	info.retry_and_idle_policy = p->policy;
	info.timeout_secs_ah_idle = HDRGATE_AH_IDLE_S;
	p->server = lws_create_vhost(p->ctx, &info);
	if (!p->server) {
		wlog(WLOG_ERR, NULL, NULL, "cannot create the browser vhost");
		return -1;
	}
	p->gate = hdrgate_new();
	hdrgate_set_target(p->gate, p->server);
	/* The raw request-target travels with the socket (front.h). */
	hdrgate_set_on_pass(p->gate, front_req_new, front_req_free, NULL);

	memset(&info, 0, sizeof(info));
	info.vhost_name = "browser-gate";
	hdrgate_listen_info(p->gate, &info);
	if (w->listen_unix) {
		/* Replace a stale socket from an earlier run, nothing
		 * else. */
		if (lstat(w->listen_unix, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(w->listen_unix);
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		info.iface = w->listen_unix;
		info.port = 0;
	} else {
		info.iface = w->listen_host;
		info.port = w->listen_port;
		if (w->listen_host && !strchr(w->listen_host, ':'))
			info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	}
	/* The web server connects as another user of the socket's group,
	 * like wrg.fcgi's default --socket-mode 0660. bind() creates the
	 * socket with mode 0777 & ~umask: with umask 0117 it is 0660 from
	 * its first moment (no window, no chmod that would follow a
	 * symlink put in its place). Single-threaded here, so the
	 * process-wide umask change is seen by nothing else. */
	if (w->listen_unix)
		um = umask(0117);
	vh = lws_create_vhost(p->ctx, &info);
	if (w->listen_unix)
		umask(um);
	if (!vh) {
		wlog(WLOG_ERR, NULL, NULL, "cannot listen on %s", w->listen);
		return -1;
	}
	wlog(WLOG_INFO, NULL, NULL, "listening on %s", w->listen);
	return 0;
}

int
proxy_run(struct registry *reg, const char *config_path)
{
	struct lws_context_creation_info info;
	struct proxy p;
	struct sigaction sa;
	int rc = 1;

	memset(&p, 0, sizeof(p));
	/* Blocking at startup: nothing is served yet. */
	p.cfg = cfg_new(reg, resolve_registry(reg));
	p.config_path = config_path;
	p.reloader = reload_new(config_path, proxy_reload_wake, &p);
	if (reg->wsproxy.ping_interval_s) {
		unsigned ping = reg->wsproxy.ping_interval_s;

		p.ws_policy.secs_since_valid_ping =
		    (uint16_t)(ping > 30000 ? 30000 : ping);
		p.ws_policy.secs_since_valid_hangup =
		    (uint16_t)(ping > 30000 ? 60000 : ping * 2);
		p.policy = &p.ws_policy;
	}

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
	    LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.user = &p;
	info.pt_serv_buf_size = PROXY_SERV_BUF_SIZE;
	info.max_http_header_data = HDRGATE_HEADER_DATA;
	p.ctx = lws_create_context(&info);
	if (!p.ctx) {
		wlog(WLOG_ERR, NULL, NULL, "cannot create the lws context");
		goto out;
	}
	p.cvhs = clientvh_set_new(p.ctx, proxy_client_protocols, p.policy);
	if (proxy_listen(&p))
		goto out;
	if (reg->wsproxy.metrics_listen) {
		p.metrics = wsm_new();
		wsm_set_sampler(p.metrics, proxy_metrics_sample, &p);
		if (wsm_listen(p.metrics, p.ctx, &reg->wsproxy))
			goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = proxy_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	lws_sul_schedule(p.ctx, 0, &p.sul_sig, proxy_sig_poll,
	    PROXY_SIG_POLL_US);
	while (!p.done)
		if (lws_service(p.ctx, 0) < 0)
			break;
	rc = 0;
	wlog(WLOG_INFO, NULL, NULL, "stopped");
out:
	/* Before the context goes: no wake (lws_cancel_service) after
	 * this. Never joined: a reload stuck in getaddrinfo must not hold
	 * up the exit. */
	reload_abandon(p.reloader);
	if (p.ctx) {
		lws_sul_cancel(&p.sul_shutdown);
		lws_sul_cancel(&p.sul_sig);
		clientvh_set_stop(p.cvhs);
		/* Streams left after the shutdown deadline: detach their
		 * upstream legs first, so whatever order lws tears the
		 * sockets down in, no callback meets a freed session and no
		 * session touches a freed wsi. */
		lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
		    lws_dll2_get_head(&p.sessions)) {
			struct session *s = lws_container_of(d, struct session,
			    list);

			lws_sul_cancel(&s->sul_reconnect);
			lws_sul_cancel(&s->sul_connect_to);
			lws_sul_cancel(&s->sul_healthy);
			if (s->upstream) {
				lws_set_opaque_user_data(s->upstream, NULL);
				s->upstream = NULL;
				s->cvh = NULL;
			}
		} lws_end_foreach_dll_safe(d, d1);
		lws_context_destroy(p.ctx);
	}
	hdrgate_free(p.gate);
	/* Sessions whose close callback did not run during destroy. */
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&p.sessions)) {
		struct session *s = lws_container_of(d, struct session, list);

		s->upstream = NULL;
		s->browser = NULL;
		session_free(s);
	} lws_end_foreach_dll_safe(d, d1);
	clientvh_set_free(p.cvhs);
	cfg_unref(p.cfg);
	wsm_free(p.metrics);
	return rc;
}
