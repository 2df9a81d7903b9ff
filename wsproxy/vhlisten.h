/*
 * vhlisten — a listening lws vhost on a registry listen address (lib/
 * listenspec.h), the one way wrg-wsproxy's browser listener and its
 * metrics listener bind.
 */
#ifndef WRG_WSPROXY_VHLISTEN_H
#define WRG_WSPROXY_VHLISTEN_H

#include <libwebsockets.h>

/* Creates a vhost from info (its other fields the caller's) listening on
 * unix_path when non-NULL, else on host:port. A Unix socket replaces a
 * stale socket file (never another file) and has mode 0660 from bind()
 * on; an IPv4 host listens on IPv4 only. Returns the vhost, or NULL
 * (the caller logs, naming the address as configured). */
struct lws_vhost *vhlisten_create(struct lws_context *ctx,
    struct lws_context_creation_info *info, const char *host, int port,
    const char *unix_path);

#endif
