/*
 * leg — one upstream connection to a runtime's event socket (leg.h).
 * Moved here from proxy.c's session when upstreams became shareable;
 * the rules (backoff, once-per-outage notices, resync, refusals that are
 * final) are unchanged.
 */
#include "leg.h"
#include "leg_int.h"

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
#include "rtreq.h"
#include "upgrade.h"
#include "wjson.h"
#include "wlog.h"
#include "xalloc.h"

static void leg_connect(struct leg *l);

/* ---- lifetime ------------------------------------------------------ */

void
leg_enter(struct leg *l)
{
	l->busy++;
}

static void
leg_destroy(struct leg *l)
{
	proxy_cfg_unref(l->cfg);
	if (l->tok != NULL)
		json_tokener_free(l->tok);
	free(l->rx);
	free(l);
}

/* Ends a callback section; true when l is gone (do not touch it). */
bool
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
void
leg_detach(struct leg *l)
{
	l->wsi = NULL;
	clientvh_leg_done(l->cvh);
	l->cvh = NULL;
	wsm_leg_down(l->p->metrics, l->runtime_id, &l->leg_counted);
}

/* Detaches the wsi and has lws kill it. */
void
leg_drop(struct leg *l)
{
	struct lws *u = l->wsi;

	lws_sul_cancel(&l->sul_connect_to);
	lws_sul_cancel(&l->sul_healthy);
	if (u == NULL)
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
	if (rt == NULL)
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
	l->have_seq = lp->cursor != NULL &&
	    frame_cursor_seq(lp->cursor, &l->seq);
	l->quiet = lp->quiet;
	return l;
}

void
leg_free(struct leg *l)
{
	if (l == NULL)
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
	if (l == NULL)
		return;
	lws_sul_cancel(&l->sul_reconnect);
	lws_sul_cancel(&l->sul_connect_to);
	lws_sul_cancel(&l->sul_healthy);
	if (l->wsi != NULL) {
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
	if (was_quiet && !quiet && l->wsi != NULL)
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
	if (l->wsi != NULL)
		lws_rx_flow_control(l->wsi, pause ? 0 : 1);
}

/* The stream is over for good; the owner hears it last. */
void
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
enum wlog_level
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
void
leg_healthy(struct leg *l)
{
	lws_sul_cancel(&l->sul_healthy);
	if (l->announced)
		wlog(WLOG_INFO, l->log_id, l->runtime_id, "upstream back "
		    "after %u attempts", l->res.attempt);
	resume_on_healthy(&l->res);
	l->announced = false;
}

void
leg_healthy_cb(lws_sorted_usec_list_t *sul)
{
	leg_healthy(lws_container_of(sul, struct leg, sul_healthy));
}

/* The connection ended (already detached). Unless the leg is over, tell
 * the owner once per outage and reconnect after the backoff. */
void
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
	if (rt == NULL) {
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
	bool dflt;

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
	dflt = (rt->transport == REGISTRY_TRANSPORT_HTTPS && rt->port == 443) ||
	    (rt->transport == REGISTRY_TRANSPORT_HTTP && rt->port == 80);
	/* Numeric: lws's getaddrinfo never blocks on DNS. The Host header
	 * and the TLS server name (lws takes both from ci.host) stay the
	 * configured name. */
	*address = xstrdup(a->addr[l->addr_next % a->n]);
	snprintf(l->addr, sizeof(l->addr), "%s", *address);
	*host = rtreq_authority(rt->host, dflt ? 0 : rt->port);
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

	if (l->final || l->wsi != NULL || l->doomed)
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
	if (path == NULL) {
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
	if (cvh == NULL) {
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
	} else if (wsi == NULL) {
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
