/*
 * leg_int — what leg.c and leg_rx.c share: the leg itself and the steps
 * both halves take. Not for other modules (they use leg.h).
 */
#ifndef WRG_WSPROXY_LEG_INT_H
#define WRG_WSPROXY_LEG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "ids.h"
#include "leg.h"
#include "resolve.h"
#include "resume.h"
#include "wlog.h"

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
	struct json_tokener *tok;		/* parses rx, or NULL */
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

/* Callback sections into the owner: leg_leave returns true when l is
 * gone (freed while busy). */
void leg_enter(struct leg *l);
bool leg_leave(struct leg *l);

/* Lets go of the wsi (its opaque pointer is the caller's business). */
void leg_detach(struct leg *l);
/* Detaches the wsi and has lws kill it. */
void leg_drop(struct leg *l);
/* The stream is over for good; the owner hears it last. */
void leg_finish(struct leg *l, enum frame_diag d, int code);
/* The connection ended (detached): reconnect after the backoff. */
void leg_lost(struct leg *l);
/* The connection proved healthy: the backoff starts over. */
void leg_healthy(struct leg *l);
void leg_healthy_cb(lws_sorted_usec_list_t *sul);
/* level for the first step of an outage, debug for the rest. */
enum wlog_level leg_log_level(const struct leg *l, enum wlog_level level);
void leg_log_connected(const struct leg *l, enum wlog_level level);

#endif
