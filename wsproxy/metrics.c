/*
 * metrics — wrg-wsproxy's counters, rendering and listener (metrics.h).
 * Everything runs on the lws service thread: plain integers, no atomics.
 *
 * The listener answers only "GET /metrics"; its answer is rendered once
 * per request into the per-connection state, written in chunks from
 * HTTP_WRITEABLE, and freed when sent or when the connection goes.
 */
#include "metrics.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ids.h"
#include "promtext.h"
#include "vhlisten.h"
#include "wlog.h"
#include "xalloc.h"

#define WSM_CHUNK 4096

struct wsm_rt {
	char id[IDS_RUNTIME_ID_MAX + 1];
	uint64_t legs_open;
	uint64_t connects[WSM_CONNECT__COUNT];
};

struct wsm {
	uint64_t streams_open;
	uint64_t streams_opened;
	uint64_t reconnects;
	uint64_t resyncs;
	uint64_t slow_consumers;
	uint64_t refused[WSM_REFUSED__COUNT];
	uint64_t frames;
	uint64_t bytes;
	struct wsm_rt none;		/* ids past WSM_RUNTIMES */
	struct wsm_rt *rts;
	size_t nrts, caprts;
	wsm_sample_fn sample;
	void *sample_arg;
};

struct wsm_pss {
	char *body;
	size_t len, off;
};

static const char *const wsm_connect_names[WSM_CONNECT__COUNT] = {
	[WSM_CONNECT_OK] = "ok",
	[WSM_CONNECT_UNREACHABLE] = "unreachable",
	[WSM_CONNECT_TIMEOUT] = "timeout",
	[WSM_CONNECT_REFUSED] = "refused",
	[WSM_CONNECT_HTTP_ERROR] = "http_error",
	[WSM_CONNECT_LOST] = "lost_before_handshake",
	[WSM_CONNECT_UNRESOLVED] = "unresolved",
	[WSM_CONNECT_LOCAL] = "local",
};

static const char *const wsm_refusal_names[WSM_REFUSED__COUNT] = {
	[WSM_REFUSED_NOT_WEBSOCKET] = "not_websocket",
	[WSM_REFUSED_NOT_UPGRADE] = "not_upgrade",
	[WSM_REFUSED_NOT_FOUND] = "not_found",
	[WSM_REFUSED_BAD_ID] = "bad_id",
	[WSM_REFUSED_ORIGIN] = "origin",
	[WSM_REFUSED_SHUTTING_DOWN] = "shutting_down",
	[WSM_REFUSED_MAX_CONNECTIONS] = "max_connections",
	[WSM_REFUSED_RUNTIME_NOT_FOUND] = "runtime_not_found",
	[WSM_REFUSED_CURSOR_MALFORMED] = "cursor_malformed",
};

struct wsm *
wsm_new(void)
{
	return xcalloc(1, sizeof(struct wsm));
}

void
wsm_free(struct wsm *m)
{
	if (m == NULL)
		return;
	free(m->rts);
	free(m);
}

void
wsm_set_sampler(struct wsm *m, wsm_sample_fn fn, void *arg)
{
	m->sample = fn;
	m->sample_arg = arg;
}

/* The entry of runtime id, added on first use; past WSM_RUNTIMES ids the
 * shared unlabelled one. */
static struct wsm_rt *
wsm_rt(struct wsm *m, const char *id)
{
	for (size_t i = 0; i < m->nrts; i++)
		if (strcmp(m->rts[i].id, id) == 0)
			return &m->rts[i];
	if (m->nrts == WSM_RUNTIMES || !ids_runtime_id_valid(id))
		return &m->none;
	if (m->nrts == m->caprts) {
		m->caprts = m->caprts ? m->caprts * 2 : 8;
		m->rts = xrealloc(m->rts, m->caprts * sizeof(*m->rts));
	}
	memset(&m->rts[m->nrts], 0, sizeof(m->rts[0]));
	snprintf(m->rts[m->nrts].id, sizeof(m->rts[0].id), "%s", id);
	return &m->rts[m->nrts++];
}

/* ---- hooks ------------------------------------------------------------- */

void
wsm_stream_open(struct wsm *m)
{
	if (m == NULL)
		return;
	m->streams_open++;
	m->streams_opened++;
}

void
wsm_stream_close(struct wsm *m)
{
	if (m != NULL && m->streams_open > 0)
		m->streams_open--;
}

void
wsm_leg_up(struct wsm *m, const char *runtime_id, bool *flag)
{
	if (m == NULL || *flag)
		return;
	*flag = true;
	wsm_rt(m, runtime_id)->legs_open++;
}

void
wsm_leg_down(struct wsm *m, const char *runtime_id, bool *flag)
{
	struct wsm_rt *r;

	if (m == NULL || !*flag)
		return;
	*flag = false;
	r = wsm_rt(m, runtime_id);
	if (r->legs_open > 0)
		r->legs_open--;
}

void
wsm_upstream_connect(struct wsm *m, const char *runtime_id,
    enum wsm_connect result)
{
	if (m != NULL && (unsigned)result < WSM_CONNECT__COUNT)
		wsm_rt(m, runtime_id)->connects[result]++;
}

enum wsm_connect
wsm_connect_status(unsigned http_status)
{
	if (http_status == 0)
		return WSM_CONNECT_UNREACHABLE;
	if (http_status >= 300 && http_status < 500)
		return WSM_CONNECT_REFUSED;
	return WSM_CONNECT_HTTP_ERROR;
}

void
wsm_reconnect(struct wsm *m)
{
	if (m != NULL)
		m->reconnects++;
}

void
wsm_resync(struct wsm *m)
{
	if (m != NULL)
		m->resyncs++;
}

void
wsm_slow_consumer(struct wsm *m)
{
	if (m != NULL)
		m->slow_consumers++;
}

void
wsm_refused(struct wsm *m, enum wsm_refusal why)
{
	if (m != NULL && (unsigned)why < WSM_REFUSED__COUNT)
		m->refused[why]++;
}

void
wsm_refused_upgrade(struct wsm *m, enum upgrade_result r)
{
	switch (r) {
	case UPGRADE_BAD_ID:
		wsm_refused(m, WSM_REFUSED_BAD_ID);
		break;
	case UPGRADE_FORBIDDEN:
		wsm_refused(m, WSM_REFUSED_ORIGIN);
		break;
	case UPGRADE_NOT_FOUND:
		wsm_refused(m, WSM_REFUSED_NOT_FOUND);
		break;
	case UPGRADE_OK:
		break;
	}
}

void
wsm_relayed(struct wsm *m, size_t len)
{
	if (m == NULL)
		return;
	m->frames++;
	m->bytes += len;
}

/* ---- rendering ----------------------------------------------------------- */

static long
wsm_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* not the one opendir holds */
}

static long long
wsm_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	long long size = 0, rss = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%lld %lld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (long long)sysconf(_SC_PAGESIZE);
}

static void
wsm_counter(struct promtext *pt, const char *name, const char *help,
    uint64_t v)
{
	promtext_family(pt, name, "counter", help);
	promtext_u64(pt, name, NULL, v);
}

static void
wsm_gauge(struct promtext *pt, const char *name, const char *help,
    int64_t v)
{
	promtext_family(pt, name, "gauge", help);
	promtext_i64(pt, name, NULL, v);
}

/* Rendering order of the runtimes: each one named, then the unlabelled
 * one (ids past WSM_RUNTIMES); i < m->nrts + 1. */
static const struct wsm_rt *
wsm_rt_at(const struct wsm *m, size_t i)
{
	return i < m->nrts ? &m->rts[i] : &m->none;
}

/* One sample of a family by runtime. */
static void
wsm_rt_u64(struct promtext *pt, const char *name, const struct wsm_rt *r,
    uint64_t v)
{
	const char *labels[] = { "runtime", r->id, NULL };

	promtext_u64(pt, name, labels, v);
}

static void
wsm_render_runtimes(struct wsm *m, struct promtext *pt)
{
	size_t n = m->nrts + 1;	/* and the unlabelled one */

	promtext_family(pt, "wrg_wsproxy_upstream_legs_open", "gauge",
	    "Upstream event streams open, by runtime.");
	for (size_t i = 0; i < n; i++)
		wsm_rt_u64(pt, "wrg_wsproxy_upstream_legs_open",
		    wsm_rt_at(m, i), wsm_rt_at(m, i)->legs_open);
	promtext_family(pt, "wrg_wsproxy_upstream_connects_total", "counter",
	    "Upstream event stream connects that succeeded, by runtime.");
	for (size_t i = 0; i < n; i++)
		wsm_rt_u64(pt, "wrg_wsproxy_upstream_connects_total",
		    wsm_rt_at(m, i), wsm_rt_at(m, i)->connects[WSM_CONNECT_OK]);
	promtext_family(pt, "wrg_wsproxy_upstream_connect_failures_total",
	    "counter", "Upstream event stream connects that failed, by "
	    "runtime and type.");
	for (size_t i = 0; i < n; i++) {
		const struct wsm_rt *r = wsm_rt_at(m, i);

		for (int c = 1; c < WSM_CONNECT__COUNT; c++) {
			const char *labels[] = { "runtime", r->id, "type",
				wsm_connect_names[c], NULL };

			promtext_u64(pt,
			    "wrg_wsproxy_upstream_connect_failures_total",
			    labels, r->connects[c]);
		}
	}
}

char *
wsm_render(struct wsm *m, size_t *len)
{
	struct wsm_sample s;
	struct promtext pt;

	memset(&s, 0, sizeof(s));
	if (m->sample != NULL)
		m->sample(m->sample_arg, &s);
	promtext_init(&pt);
	wsm_gauge(&pt, "wrg_wsproxy_streams_open", "Browser event streams "
	    "open.", (int64_t)m->streams_open);
	wsm_counter(&pt, "wrg_wsproxy_streams_opened_total", "Browser event "
	    "streams opened.", m->streams_opened);
	wsm_render_runtimes(m, &pt);
	wsm_counter(&pt, "wrg_wsproxy_upstream_reconnects_total", "Upstream "
	    "reconnect attempts after a leg ended.", m->reconnects);
	wsm_counter(&pt, "wrg_wsproxy_resyncs_total", "Streams resynced "
	    "because the runtime no longer had the cursor.", m->resyncs);
	wsm_counter(&pt, "wrg_wsproxy_slow_consumer_cuts_total", "Streams "
	    "closed because the browser read slower than events came.",
	    m->slow_consumers);
	promtext_family(&pt, "wrg_wsproxy_upgrades_refused_total", "counter",
	    "Browser upgrades refused, by reason.");
	for (int i = 0; i < WSM_REFUSED__COUNT; i++) {
		const char *labels[] = { "reason", wsm_refusal_names[i], NULL };

		promtext_u64(&pt, "wrg_wsproxy_upgrades_refused_total", labels,
		    m->refused[i]);
	}
	wsm_counter(&pt, "wrg_wsproxy_frames_relayed_total", "Frames written "
	    "to browsers.", m->frames);
	wsm_counter(&pt, "wrg_wsproxy_bytes_relayed_total", "Payload bytes "
	    "written to browsers.", m->bytes);
	wsm_gauge(&pt, "wrg_wsproxy_send_queue_bytes", "Bytes queued for "
	    "browsers, all streams.", (int64_t)s.sendq_bytes_sum);
	wsm_gauge(&pt, "wrg_wsproxy_send_queue_bytes_max", "Bytes queued for "
	    "the browser with the longest queue.", (int64_t)s.sendq_bytes_max);
	wsm_gauge(&pt, "process_open_fds", "Open file descriptors.",
	    wsm_open_fds());
	wsm_gauge(&pt, "process_resident_memory_bytes", "Resident memory "
	    "size in bytes.", wsm_rss_bytes());
	return promtext_take(&pt, len);
}

/* ---- the listener ------------------------------------------------------ */

static int
wsm_http_head(struct lws *wsi, unsigned status, size_t len)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof(buf) - 1;

	if (lws_add_http_common_headers(wsi, status, status == 200 ?
	    PROMTEXT_CONTENT_TYPE : "text/plain; charset=utf-8", len, &p,
	    end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
wsm_http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct wsm *m = lws_vhost_user(lws_get_vhost(wsi));
	struct wsm_pss *pss = user;
	unsigned char buf[LWS_PRE + WSM_CHUNK];
	size_t n;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		free(pss->body);
		pss->off = 0;
		if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 &&
		    in != NULL && strcmp((const char *)in, "/metrics") == 0) {
			pss->body = wsm_render(m, &pss->len);
			return wsm_http_head(wsi, 200, pss->len);
		}
		pss->body = xstrdup("not found\n");
		pss->len = strlen(pss->body);
		return wsm_http_head(wsi, 404, pss->len);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (pss->body == NULL)
			break;
		n = pss->len - pss->off;
		if (n > WSM_CHUNK)
			n = WSM_CHUNK;
		memcpy(buf + LWS_PRE, pss->body + pss->off, n);
		pss->off += n;
		if (lws_write(wsi, buf + LWS_PRE, n, pss->off == pss->len ?
		    LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
			return -1;
		if (pss->off < pss->len) {
			lws_callback_on_writable(wsi);
			break;
		}
		free(pss->body);
		pss->body = NULL;
		if (lws_http_transaction_completed(wsi))
			return -1;
		break;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (pss != NULL) {
			free(pss->body);
			pss->body = NULL;
		}
		break;
	default:
		break;
	}
	(void)len;
	return 0;
}

static const struct lws_protocols wsm_protocols[] = {
	{ "wrg-metrics", wsm_http_cb, sizeof(struct wsm_pss), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

int
wsm_listen(struct wsm *m, struct lws_context *ctx,
    const struct registry_wsproxy *w)
{
	struct lws_context_creation_info info;
	struct lws_vhost *vh;

	memset(&info, 0, sizeof(info));
	info.vhost_name = "metrics";
	info.protocols = wsm_protocols;
	info.user = m;
	vh = vhlisten_create(ctx, &info, w->metrics_host, w->metrics_port,
	    w->metrics_unix);
	if (vh == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "cannot listen on %s for metrics",
		    w->metrics_listen);
		return -1;
	}
	wlog(WLOG_INFO, NULL, NULL, "metrics on %s", w->metrics_listen);
	return 0;
}
