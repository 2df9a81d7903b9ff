/*
 * reload — loads wrg-wsproxy's config again (SIGHUP) in a background
 * thread: the registry file is read and every runtime host resolved
 * there, because getaddrinfo can block for as long as the resolver
 * takes (a DNS server that does not answer: timeout x attempts), and on
 * the one lws service thread that would freeze every stream. The
 * service thread asks for a load; the thread calls a wake hook when it is
 * done (wrg-wsproxy's: lws_cancel_service, the one lws call allowed from
 * another thread), and the service thread takes the result and swaps it
 * in itself.
 *
 * One thread per load. A request while a load runs is coalesced: that
 * load's result is dropped and the file is loaded once more right
 * after, so what is applied is never older than the last request.
 *
 * Ownership: the service thread owns struct reload until
 * reload_abandon; a thread still running then (stuck in getaddrinfo)
 * owns it from there and frees it when it ends, or the process exit
 * takes it. Results belong to whoever took them.
 */
#ifndef WRG_WSPROXY_RELOAD_H
#define WRG_WSPROXY_RELOAD_H

#include <stdbool.h>

#include "registry.h"
#include "resolve.h"

struct reload;

/* A finished load: reg and addrs (resolve_registry's), or err. */
struct reload_result {
	struct registry *reg;		/* NULL: the file was refused */
	struct resolve_addrs *addrs;	/* by runtime index, with reg */
	char *err;			/* why reg is NULL */
};

/* A loader for config_path (copied). wake(wake_arg) is called from the
 * loading thread each time a result is ready, never after
 * reload_abandon returned. */
struct reload *reload_new(const char *config_path, void (*wake)(void *),
    void *wake_arg);

/* Starts a load, or has the running one followed by another. Returns
 * true when a load was already running (coalesced). */
bool reload_request(struct reload *r);

/* The finished load not taken yet, or NULL. The caller owns it. */
struct reload_result *reload_take(struct reload *r);

/* Frees res and what it holds; NULL is a no-op. */
void reload_result_free(struct reload_result *res);

/* Lets go of r without waiting: a load still running is left to its
 * thread, which frees r when done. NULL is a no-op. */
void reload_abandon(struct reload *r);

#endif
