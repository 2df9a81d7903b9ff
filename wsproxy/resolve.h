/*
 * resolve — turns a runtime's configured host into numeric addresses,
 * once, when the config is loaded (startup and SIGHUP reload). The Debian
 * lws build has no asynchronous DNS: a hostname handed to
 * lws_client_connect_via_info would make getaddrinfo block the one
 * service thread on every (re)connect, freezing every stream. Connecting
 * to a numeric address never blocks; the configured name stays the Host
 * header and the TLS server name.
 */
#ifndef WRG_WSPROXY_RESOLVE_H
#define WRG_WSPROXY_RESOLVE_H

#include <stddef.h>

#include "registry.h"

#define RESOLVE_ADDR_LEN 46	/* INET6_ADDRSTRLEN */
#define RESOLVE_MAX 8		/* addresses kept per host */

enum resolve_err {
	RESOLVE_OK = 0,
	RESOLVE_ERR_LOOKUP,	/* getaddrinfo failed (gai code kept) */
	RESOLVE_ERR_NONE	/* no IPv4/IPv6 address for the name */
};

/* The addresses of one host, numeric, in getaddrinfo's order without
 * duplicates. */
struct resolve_addrs {
	size_t n;
	char addr[RESOLVE_MAX][RESOLVE_ADDR_LEN];
	int gai;		/* getaddrinfo's code on RESOLVE_ERR_LOOKUP */
};

/* Resolves host (IPv6 without brackets) into *out. A numeric host is
 * taken as is (AI_NUMERICHOST, no lookup); a name is looked up with
 * getaddrinfo, which may block: call only at config load. */
enum resolve_err resolve_host(const char *host, struct resolve_addrs *out);

/* Resolves every TCP runtime of reg (resolve_host each, so it may block
 * on DNS: wrg-wsproxy calls it at startup and from its reload thread,
 * never on the service thread after startup). Returns one entry per
 * runtime, by registry index, owned by the caller (free()); a Unix
 * runtime or a host that did not resolve has n == 0 (logged as a warning
 * with the runtime id). */
struct resolve_addrs *resolve_registry(const struct registry *reg);

/* A short English text for e; with out, getaddrinfo's reason. */
const char *resolve_strerror(enum resolve_err e,
    const struct resolve_addrs *out);

#endif
