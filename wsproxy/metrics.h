/*
 * metrics — wrg-wsproxy's Prometheus metrics (prefix wsm_): the counters,
 * their rendering in the text format (lib/promtext), and the listener
 * that serves them (wsproxy.metrics_listen, an lws vhost of its own on
 * the proxy's context; GET /metrics, anything else 404).
 *
 * The proxy calls one hook where each thing happens (listed in
 * docs/wsproxy.md, "Metrics"); every hook is a few additions on the
 * service thread and accepts m == NULL (metrics off). Runtimes are named
 * by registry id, so counters survive reloads; at most WSM_RUNTIMES ids
 * are kept (more are counted under no runtime label). Gauges that are
 * cheaper to read than to track (send-queue bytes) come from a sampler
 * the proxy registers; open fds and RSS are read from /proc at scrape
 * time.
 */
#ifndef WRG_WSPROXY_METRICS_H
#define WRG_WSPROXY_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "registry.h"
#include "upgrade.h"

#define WSM_RUNTIMES 1024	/* REGISTRY_RUNTIMES_MAX */

/* How an attempt to open an upstream leg ended. */
enum wsm_connect {
	WSM_CONNECT_OK = 0,
	WSM_CONNECT_UNREACHABLE,	/* no HTTP answer: connect, TLS, reset */
	WSM_CONNECT_TIMEOUT,		/* connect_timeout_ms passed */
	WSM_CONNECT_REFUSED,		/* HTTP 3xx/4xx to the upgrade */
	WSM_CONNECT_HTTP_ERROR,		/* another HTTP status */
	WSM_CONNECT_LOST,		/* ended before the handshake */
	WSM_CONNECT_UNRESOLVED,		/* the host did not resolve */
	WSM_CONNECT_LOCAL,		/* could not be started here */
	WSM_CONNECT__COUNT
};

/* Why a browser's upgrade (or a stream just upgraded) was refused. */
enum wsm_refusal {
	WSM_REFUSED_NOT_WEBSOCKET = 0,	/* Upgrade: other than websocket */
	WSM_REFUSED_NOT_UPGRADE,	/* a plain HTTP request */
	WSM_REFUSED_NOT_FOUND,		/* not the events route */
	WSM_REFUSED_BAD_ID,
	WSM_REFUSED_ORIGIN,		/* Origin not allowed */
	WSM_REFUSED_SHUTTING_DOWN,
	WSM_REFUSED_MAX_CONNECTIONS,
	WSM_REFUSED_RUNTIME_NOT_FOUND,
	WSM_REFUSED_CURSOR_MALFORMED,
	WSM_REFUSED__COUNT
};

/* What the sampler reports at scrape time. */
struct wsm_sample {
	size_t sendq_bytes_sum;
	size_t sendq_bytes_max;
};
typedef void (*wsm_sample_fn)(void *arg, struct wsm_sample *out);

struct wsm;

/* New, zeroed counters; free with wsm_free. */
struct wsm *wsm_new(void);
void wsm_free(struct wsm *m);	/* NULL is a no-op */

/* The scrape-time sampler (fn(arg, out) fills out, which starts zeroed). */
void wsm_set_sampler(struct wsm *m, wsm_sample_fn fn, void *arg);

/* Creates the listening vhost on ctx for w->metrics_listen. Returns 0, or
 * -1 when it cannot listen (logged). Call once, after the context. */
int wsm_listen(struct wsm *m, struct lws_context *ctx,
    const struct registry_wsproxy *w);

/* ---- hooks ------------------------------------------------------------- */

void wsm_stream_open(struct wsm *m);
void wsm_stream_close(struct wsm *m);
/* An upstream leg is up / gone. *flag (the session's, false at first)
 * records whether this leg was counted, so a leg that ends in any way,
 * once or several times, is taken off once. */
void wsm_leg_up(struct wsm *m, const char *runtime_id, bool *flag);
void wsm_leg_down(struct wsm *m, const char *runtime_id, bool *flag);
void wsm_upstream_connect(struct wsm *m, const char *runtime_id,
    enum wsm_connect result);
/* The class of a failed upgrade from its HTTP status (0: none). */
enum wsm_connect wsm_connect_status(unsigned http_status);
void wsm_reconnect(struct wsm *m);
void wsm_resync(struct wsm *m);
void wsm_slow_consumer(struct wsm *m);
void wsm_refused(struct wsm *m, enum wsm_refusal why);
void wsm_refused_upgrade(struct wsm *m, enum upgrade_result r);
/* One frame of len bytes written to a browser. */
void wsm_relayed(struct wsm *m, size_t len);

/* The metrics in the Prometheus text format; owned by the caller. */
char *wsm_render(struct wsm *m, size_t *len);

#endif
