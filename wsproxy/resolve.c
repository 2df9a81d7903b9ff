/*
 * resolve — numeric addresses of a runtime host at config load (see
 * resolve.h).
 */
#include "resolve.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "wlog.h"
#include "xalloc.h"

static enum resolve_err
resolve_try(const char *host, int flags, struct resolve_addrs *out)
{
	struct addrinfo hints, *res = NULL, *ai;
	char buf[RESOLVE_ADDR_LEN];
	size_t i;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = flags;
	r = getaddrinfo(host, NULL, &hints, &res);
	if (r != 0) {
		out->gai = r;
		return RESOLVE_ERR_LOOKUP;
	}
	for (ai = res; ai != NULL && out->n < RESOLVE_MAX; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, sizeof(buf),
		    NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		for (i = 0; i < out->n; i++)
			if (strcmp(out->addr[i], buf) == 0)
				break;
		if (i == out->n)
			snprintf(out->addr[out->n++], RESOLVE_ADDR_LEN, "%s",
			    buf);
	}
	freeaddrinfo(res);
	return out->n ? RESOLVE_OK : RESOLVE_ERR_NONE;
}

enum resolve_err
resolve_host(const char *host, struct resolve_addrs *out)
{
	memset(out, 0, sizeof(*out));
	if (host == NULL || !*host)
		return RESOLVE_ERR_NONE;
	if (resolve_try(host, AI_NUMERICHOST, out) == RESOLVE_OK)
		return RESOLVE_OK;
	memset(out, 0, sizeof(*out));
	return resolve_try(host, 0, out);
}

const char *
resolve_strerror(enum resolve_err e, const struct resolve_addrs *out)
{
	switch (e) {
	case RESOLVE_OK:
		return "ok";
	case RESOLVE_ERR_LOOKUP:
		return out != NULL ? gai_strerror(out->gai) : "lookup failed";
	case RESOLVE_ERR_NONE:
		break;
	}
	return "no address";
}

struct resolve_addrs *
resolve_registry(const struct registry *reg)
{
	struct resolve_addrs *addrs;
	enum resolve_err e;
	size_t i;

	addrs = xcalloc(reg->runtime_count ? reg->runtime_count : 1,
	    sizeof(*addrs));
	for (i = 0; i < reg->runtime_count; i++) {
		const struct registry_runtime *rt = &reg->runtimes[i];

		if (rt->transport == REGISTRY_TRANSPORT_UNIX)
			continue;
		e = resolve_host(rt->host, &addrs[i]);
		if (e != RESOLVE_OK)
			wlog(WLOG_WARN, NULL, rt->id, "cannot resolve %s (%s): "
			    "runtime unavailable until the next reload",
			    rt->host, resolve_strerror(e, &addrs[i]));
		else if (strcmp(addrs[i].addr[0], rt->host) != 0)
			wlog(WLOG_INFO, NULL, rt->id, "%s resolved to %s%s",
			    rt->host, addrs[i].addr[0],
			    addrs[i].n > 1 ? " (and others)" : "");
	}
	return addrs;
}
