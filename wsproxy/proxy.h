/*
 * proxy — wrg-wsproxy's process: one lws context on a libuv loop, the
 * browser-facing listener (behind lib/hdrgate), the client vhosts for
 * runtimes, signals, SIGHUP reload and shutdown. main.c parses the
 * command line and calls proxy_run().
 *
 * The streams themselves live in three modules, each with its ownership
 * rules at its top:
 *   session.c  one browser stream (its queue, its position, its mode),
 *              browser.c its protocol side (upgrade, writes);
 *   feed.c     one shared upstream per watched (runtime, worker), fanned
 *              out to every session watching it live;
 *   leg.c      one lws client connection to a runtime's event socket
 *              with reconnect, backoff and resume, owned by a feed or by
 *              a session catching up on its own; leg_rx.c its lws
 *              callbacks and frames.
 * Everything runs on the one loop thread; the only other thread is
 * reload.c's config loader, which hands its result over through
 * lws_cancel_service.
 */
#ifndef WRG_WSPROXY_PROXY_H
#define WRG_WSPROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "registry.h"

/* A loaded config and the numeric addresses of its TCP runtimes, shared
 * by reference: a SIGHUP reload never frees what a stream still uses. */
struct proxy_cfg {
	struct registry *reg;
	/* By registry_runtime index; n == 0: the host did not resolve and
	 * the runtime is unavailable until a reload. */
	struct resolve_addrs *addrs;
	unsigned refs;
};

struct proxy_cfg *proxy_cfg_ref(struct proxy_cfg *c);
void proxy_cfg_unref(struct proxy_cfg *c);

struct feed_set;
struct wsm;
struct clientvh_set;
struct hdrgate;
struct reload;

struct proxy {
	struct lws_context *ctx;
	void *loop;			/* our uv_loop_t, lws' foreign loop */
	struct lws_vhost *server;	/* serves what the gate passes */
	struct hdrgate *gate;		/* owns the listening socket */
	struct proxy_cfg *cfg;		/* the current config */
	const char *config_path;
	struct reload *reloader;	/* SIGHUP loads, off this thread */
	struct clientvh_set *cvhs;	/* upstream vhosts, by TLS files */
	struct feed_set *feeds;		/* shared upstreams */
	struct wsm *metrics;		/* NULL: no wsproxy.metrics_listen */
	lws_dll2_owner_t sessions;
	lws_dll2_owner_t leg_wait;	/* sessions waiting for an own leg */
	lws_dll2_owner_t flush;		/* sessions with frames to write now */
	/* Sessions whose browser has bytes it has not consumed, looked at
	 * once a second (alive.c). */
	lws_dll2_owner_t progress;
	lws_sorted_usec_list_t sul_progress;
	unsigned own_legs;		/* sessions' own legs open */
	unsigned browsers;
	unsigned char *wbuf;		/* session_write's batches, or NULL */
	bool shutting_down;
	bool done;
	lws_sorted_usec_list_t sul_shutdown;
	lws_sorted_usec_list_t sul_sig;
	lws_retry_bo_t ws_policy;
	const lws_retry_bo_t *policy;	/* &ws_policy, or NULL: no pings */
};

/* The largest runtime message a stream accepts under reg: one that a
 * browser's send queue can always hold as one frame. */
size_t proxy_event_max(const struct registry *reg);

/* A browser stream ended (session.c): counts down and ends the process
 * once shutdown has closed the last one. */
void proxy_browser_gone(struct proxy *p);

/* Swaps in a finished background reload, if any (reload.h). */
void proxy_reload_take(struct proxy *p);

/* Runs the proxy until SIGTERM/SIGINT. Takes ownership of reg;
 * config_path is re-read on SIGHUP. Returns the process exit status:
 * 0 after a clean shutdown, 1 if the listener could not be set up. */
int proxy_run(struct registry *reg, const char *config_path);

#endif
