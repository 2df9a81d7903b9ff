/*
 * proxy — wrg-wsproxy's process (see proxy.h): the lws context on a
 * libuv loop, the listener, config references, signals, SIGHUP reload
 * and shutdown.
 *
 * The loop: lws' default loop polls every socket at every turn, so the
 * cost of one frame grew with the number of idle browsers. lws 4.1 runs
 * on libuv through Debian's event-lib plugin (epoll); the loop is ours
 * (a "foreign" loop), so lws installs no signal handlers and we decide
 * when it stops.
 *
 * Ownership: the proxy owns the context, the gate, the feed set, the
 * client vhost set and one reference on the current config. Sessions
 * are in p->sessions (owned by their browser connections, session.h).
 *
 * Signal handlers only set flags, which a PROXY_SIG_POLL_US timer looks
 * at. The one other thread is reload.c's, for a SIGHUP's config load
 * (file + DNS); it wakes the loop (lws_cancel_service) and the loop
 * swaps the result in.
 */
#include "proxy.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <uv.h>

#include "clientvh.h"
#include "feed.h"
#include "front.h"
#include "hdrgate.h"
#include "leg.h"
#include "metrics.h"
#include "reload.h"
#include "resolve.h"
#include "session.h"
#include "vhlisten.h"
#include "wlog.h"
#include "xalloc.h"

/* How long shutdown waits for browsers to read their last frames. */
#define PROXY_SHUTDOWN_MAX_US (8 * LWS_US_PER_SEC)
/* How much bigger than the runtime's frame the browser frame of one
 * event can get: the registry runtime_id put in (ids are <= 64 bytes),
 * with its key and quotes, and slack. */
#define PROXY_FRAME_OVERHEAD 256
/* How often the loop looks at the signal flags. */
#define PROXY_SIG_POLL_US (100 * LWS_US_PER_MS)
/* lws builds a client handshake in its per-thread serve buffer (default
 * 4096). The biggest one the config allows: request line with base_path
 * and a worker id escaped three times over (< 2048 + 3 * 256 + 128),
 * Host (< 2048), "Authorization: Bearer " + a 4096-byte token, and lws'
 * own ~500 bytes: < 9.6 KiB. 16 KiB holds it with room to spare. */
#define PROXY_SERV_BUF_SIZE (16 * 1024)

static volatile sig_atomic_t proxy_sig_term, proxy_sig_hup;

/* ---- config references ------------------------------------------ */

/* Takes reg and addrs (resolve_registry's, for reg). */
static struct proxy_cfg *
proxy_cfg_new(struct registry *reg, struct resolve_addrs *addrs)
{
	struct proxy_cfg *c = xcalloc(1, sizeof(*c));

	c->reg = reg;
	c->addrs = addrs;
	c->refs = 1;
	return c;
}

struct proxy_cfg *
proxy_cfg_ref(struct proxy_cfg *c)
{
	c->refs++;
	return c;
}

void
proxy_cfg_unref(struct proxy_cfg *c)
{
	if (c == NULL || --c->refs)
		return;
	registry_free(c->reg);
	free(c->addrs);
	free(c);
}

size_t
proxy_event_max(const struct registry *reg)
{
	size_t cap = reg->wsproxy.send_queue_max_bytes;

	return cap > PROXY_FRAME_OVERHEAD * 2 ? cap - PROXY_FRAME_OVERHEAD :
	    cap / 2;
}

/* The loop ends at its next turn (proxy_check_done). */
static void
proxy_set_done(struct proxy *p)
{
	p->done = true;
}

void
proxy_browser_gone(struct proxy *p)
{
	if (p->browsers)
		p->browsers--;
	if (p->shutting_down && !p->browsers)
		proxy_set_done(p);
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
static void proxy_reload(struct proxy *p, struct reload_result *res);

/* Swaps in a finished background reload, if any (reload.h). Runs when
 * the reload thread woke the loop (EVENT_WAIT_CANCELLED) and at every
 * signal poll. */
void
proxy_reload_take(struct proxy *p)
{
	struct reload_result *res = reload_take(p->reloader);

	if (res != NULL && !p->shutting_down)
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
	proxy_set_done(p);
}

static void
proxy_shutdown(struct proxy *p)
{
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&p->sessions)) {
		session_shutdown(session_of_list_node(d));
	} lws_end_foreach_dll_safe(d, d1);
	wlog(WLOG_INFO, NULL, NULL, "shutting down: closing %u streams",
	    p->browsers);
	if (!p->browsers)
		proxy_set_done(p);
	else
		lws_sul_schedule(p->ctx, 0, &p->sul_shutdown,
		    proxy_shutdown_deadline, PROXY_SHUTDOWN_MAX_US);
}

/* What a reload compares: the config before and after it. */
struct proxy_same {
	struct proxy_cfg *old;	/* the reload's reference, dropped after */
	const struct proxy_cfg *cur;
	bool tls_stale;		/* some TLS file was rewritten in place */
};

/* feed_set_retire's keep: a worker's shared upstream stays findable when
 * its runtime is reached as before — the same settings, the same
 * resolved addresses, and for https no TLS file rewritten in place. */
static bool
proxy_same_upstream(const char *runtime_id, void *arg)
{
	const struct proxy_same *s = arg;
	const struct registry_runtime *a, *b;
	const struct resolve_addrs *x, *y;

	if (!registry_same_upstream(s->old->reg, s->cur->reg, runtime_id))
		return false;
	a = registry_find(s->old->reg, runtime_id);
	b = registry_find(s->cur->reg, runtime_id);
	if (a->transport == REGISTRY_TRANSPORT_HTTPS && s->tls_stale)
		return false;
	x = &s->old->addrs[a->index];
	y = &s->cur->addrs[b->index];
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->addr[i], y->addr[i]) != 0)
			return false;
	return true;
}

/* Swaps in a finished background load (reload.h), exactly as a load on
 * this thread would: new streams use it at once, open ones at their next
 * reconnect. Takes res. */
static void
proxy_reload(struct proxy *p, struct reload_result *res)
{
	const struct registry_wsproxy *o = &p->cfg->reg->wsproxy, *n;
	struct registry *reg = res->reg;
	struct proxy_same same;

	if (reg == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "reload failed, keeping the old "
		    "config: %s", res->err);
		reload_result_free(res);
		return;
	}
	n = &reg->wsproxy;
	if (strcmp(o->listen, n->listen) != 0 ||
	    o->ping_interval_s != n->ping_interval_s ||
	    (o->metrics_listen == NULL) != (n->metrics_listen == NULL) ||
	    (o->metrics_listen != NULL && strcmp(o->metrics_listen,
	    n->metrics_listen) != 0))
		wlog(WLOG_WARN, NULL, NULL, "reload: wsproxy.listen, "
		    "wsproxy.metrics_listen and wsproxy.ping_interval_s take "
		    "effect only after a restart");
	wlog_set_format(reg->log_json ? WLOG_JSON : WLOG_TEXT);
	same.old = p->cfg;
	p->cfg = proxy_cfg_new(reg, res->addrs);
	same.cur = p->cfg;
	res->reg = NULL;
	res->addrs = NULL;
	reload_result_free(res);
	wlog(WLOG_INFO, NULL, NULL, "config reloaded from %s (%zu runtimes)",
	    p->config_path, reg->runtime_count);
	same.tls_stale = clientvh_reload(p->cvhs) > 0;
	/* New browsers get upstreams with a changed URL or token at once;
	 * the open ones switch at their next reconnect. A runtime reached
	 * as before keeps its shared upstreams: a reload does not double
	 * the runtime connections of every watched worker. */
	feed_set_retire(p->feeds, proxy_same_upstream, &same);
	proxy_cfg_unref(same.old);
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

	memset(&info, 0, sizeof(info));
	info.vhost_name = "browser";
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = session_protocols;
	info.retry_and_idle_policy = p->policy;
	info.timeout_secs_ah_idle = HDRGATE_AH_IDLE_S;
	p->server = lws_create_vhost(p->ctx, &info);
	if (p->server == NULL) {
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
	vh = vhlisten_create(p->ctx, &info, w->listen_host, w->listen_port,
	    w->listen_unix);
	if (vh == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "cannot listen on %s", w->listen);
		return -1;
	}
	wlog(WLOG_INFO, NULL, NULL, "listening on %s", w->listen);
	return 0;
}

/* Each turn of the loop: the frames queued in it go out
 * (session_flush); once the proxy is done, start lws' teardown
 * (from our own handle, never from inside an lws callback) and let the
 * loop run until lws has closed its handles. */
static void
proxy_check_done(uv_check_t *h)
{
	struct proxy *p = h->data;

	if (!p->done) {
		session_flush(p);
		return;
	}
	uv_check_stop(h);
	uv_close((uv_handle_t *)h, NULL);
	reload_abandon(p->reloader);
	p->reloader = NULL;
	lws_sul_cancel(&p->sul_shutdown);
	lws_sul_cancel(&p->sul_sig);
	lws_sul_cancel(&p->sul_progress);
	clientvh_set_stop(p->cvhs);
	/* Streams left after the shutdown deadline: detach every upstream
	 * first, so whatever order lws tears the sockets down in, no
	 * callback meets a freed stream and no stream touches a freed
	 * wsi. */
	feed_set_abandon(p->feeds);
	lws_start_foreach_dll(struct lws_dll2 *, d,
	    lws_dll2_get_head(&p->sessions)) {
		session_abandon(session_of_list_node(d));
	} lws_end_foreach_dll(d);
	lws_context_destroy(p->ctx);
}

/* The metrics' scrape-time sampler (metrics.h): send queues summed. */
static void
proxy_metrics_sample(void *arg, struct wsm_sample *out)
{
	struct proxy *p = arg;

	lws_start_foreach_dll(struct lws_dll2 *, d,
	    lws_dll2_get_head(&p->sessions)) {
		size_t b = session_queued_bytes(session_of_list_node(d));

		out->sendq_bytes_sum += b;
		if (b > out->sendq_bytes_max)
			out->sendq_bytes_max = b;
	} lws_end_foreach_dll(d);
}

static void
proxy_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = proxy_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void
proxy_ping_policy(struct proxy *p, const struct registry *reg)
{
	unsigned ping = reg->wsproxy.ping_interval_s;

	if (!ping)
		return;
	p->ws_policy.secs_since_valid_ping =
	    (uint16_t)(ping > 30000 ? 30000 : ping);
	p->ws_policy.secs_since_valid_hangup =
	    (uint16_t)(ping > 30000 ? 60000 : ping * 2);
	p->policy = &p->ws_policy;
}

int
proxy_run(struct registry *reg, const char *config_path)
{
	struct lws_context_creation_info info;
	struct proxy p;
	uv_loop_t loop;
	uv_check_t check;
	void *loops[1] = { &loop };
	int rc = 1;

	memset(&p, 0, sizeof(p));
	uv_loop_init(&loop);
	p.loop = &loop;
	/* Blocking at startup: nothing is served yet. */
	p.cfg = proxy_cfg_new(reg, resolve_registry(reg));
	p.config_path = config_path;
	p.reloader = reload_new(config_path, proxy_reload_wake, &p);
	proxy_ping_policy(&p, reg);

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
	    LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_LIBUV;
	info.foreign_loops = loops;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.user = &p;
	info.pt_serv_buf_size = PROXY_SERV_BUF_SIZE;
	info.max_http_header_data = HDRGATE_HEADER_DATA;
	p.ctx = lws_create_context(&info);
	if (p.ctx == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "cannot create the lws context (on "
		    "libuv: is libwebsockets-evlib-uv installed?)");
		goto out;
	}
	p.cvhs = clientvh_set_new(p.ctx, leg_protocols, p.policy);
	p.feeds = feed_set_new(&p);
	if (reg->wsproxy.metrics_listen != NULL) {
		p.metrics = wsm_new();
		wsm_set_sampler(p.metrics, proxy_metrics_sample, &p);
	}
	if (proxy_listen(&p) || (p.metrics != NULL &&
	    wsm_listen(p.metrics, p.ctx, &reg->wsproxy))) {
		p.done = true;
		goto stop;
	}
	proxy_signals();
	lws_sul_schedule(p.ctx, 0, &p.sul_sig, proxy_sig_poll,
	    PROXY_SIG_POLL_US);
	rc = 0;
stop:
	uv_check_init(&loop, &check);
	check.data = &p;
	uv_check_start(&check, proxy_check_done);
	uv_run(&loop, UV_RUN_DEFAULT);
	/* lws' handles are closed: its last teardown step frees it. */
	lws_context_destroy(p.ctx);
	if (!rc)
		wlog(WLOG_INFO, NULL, NULL, "stopped");
out:
	/* Never joined: a reload stuck in getaddrinfo must not hold up the
	 * exit. */
	reload_abandon(p.reloader);
	hdrgate_free(p.gate);
	/* Sessions whose close callback did not run during the teardown. */
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&p.sessions)) {
		session_free(session_of_list_node(d));
	} lws_end_foreach_dll_safe(d, d1);
	feed_set_free(p.feeds);
	free(p.wbuf);
	clientvh_set_free(p.cvhs);
	wsm_free(p.metrics);
	proxy_cfg_unref(p.cfg);
	uv_run(&loop, UV_RUN_NOWAIT);
	uv_loop_close(&loop);
	return rc;
}
