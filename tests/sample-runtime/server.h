/*
 * server — the one lws protocol of wrg-sample-runtime. It serves the REST
 * routes (through api.c) and the observation WebSocket on the same vhost:
 * auth at the upgrade, snapshot → backlog → live per connection, a capped
 * send queue per connection drained only from SERVER_WRITEABLE, the
 * delay fault and the tick timer as lws_sul timers.
 */
#ifndef SR_SERVER_H
#define SR_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "api.h"
#include "store.h"

/* The shared state of the vhost; lives in main(), passed to lws as the
 * context user pointer. */
struct server {
	struct api_ctx api;
	struct store *st;
	struct lws_context *context;
	lws_dll2_owner_t conns;		/* observation sockets (pss) */
	unsigned long tick_ms;		/* 0 = no ticks */
	lws_sorted_usec_list_t tick_sul;
	size_t queue_max_msgs;		/* per connection */
	size_t queue_max_bytes;
};

/* The protocol list (WS protocol first, zero-terminated). */
const struct lws_protocols *server_protocols(void);

/* Wires store events and the drop-ws control into srv (st and api must be
 * set). Call before creating the context. */
void server_init(struct server *srv);

/* Starts the tick timer (after the context exists). */
void server_start(struct server *srv, struct lws_context *context);

/* Cancels timers; call before lws_context_destroy. */
void server_stop(struct server *srv);

#endif
