/*
 * leg — one lws client connection to a runtime's event socket for one
 * worker, kept up across drops: reconnect with backoff, resume from the
 * last cursor, dropping the snapshot a reconnect brings (resume.h), a
 * reloaded config picked up at the next connect.
 *
 * A leg is owned by a feed (the shared upstream of a worker) or by a
 * session catching up on its own; it tells its owner what happened
 * through struct leg_ops and never touches a browser.
 *
 * Ownership:
 *  - The owner creates and frees the leg. leg_free may be called from
 *    inside any of the leg's callbacks into the owner: the leg is then
 *    only marked and freed when its callback returns.
 *  - The lws wsi borrows the leg through its opaque user data; the leg
 *    detaches it (opaque pointer NULL) before it lets lws kill the wsi,
 *    and every lws callback ignores a wsi without a leg.
 *  - The leg holds one reference on the config it connects with.
 */
#ifndef WRG_WSPROXY_LEG_H
#define WRG_WSPROXY_LEG_H

#include <stdbool.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "frame.h"
#include "sframe.h"

struct proxy;
struct leg;

struct leg_ops {
	/* A runtime event to pass on (the resume rules already applied).
	 * The callee owns the one reference of fr. */
	void (*event)(void *owner, struct sframe *fr, bool snapshot);
	/* Information for the browsers: FRAME_DIAG_UPSTREAM_RECONNECTING
	 * (once per outage) or FRAME_DIAG_RESYNCED (a fresh snapshot
	 * follows). */
	void (*diag)(void *owner, enum frame_diag d);
	/* The stream cannot go on: send d, close with code. The leg is
	 * idle (no connection, no timer) and will do nothing more. */
	void (*finish)(void *owner, enum frame_diag d, int code);
};

struct leg_params {
	struct proxy *p;
	const char *log_id;	/* the owner's, for logs; outlives the leg */
	const char *runtime_id;
	const char *worker_id;
	size_t worker_id_len;
	const char *cursor;	/* resume after it; NULL: from "now" */
	bool have_state;	/* the browsers have state: drop snapshots */
	bool quiet;		/* log a first connect at debug (a browser's
				 * own leg: one per stream open) */
	const struct leg_ops *ops;
	void *owner;
};

/* A new idle leg; NULL when the runtime is not in the current config.
 * Copies what it needs from lp. */
struct leg *leg_new(const struct leg_params *lp);

/* Connects (the first time, or again at once). */
void leg_start(struct leg *l);

/* Ends the leg: its connection is dropped, its timers cancelled. NULL is
 * a no-op. */
void leg_free(struct leg *l);

/* Stops / resumes reading from the runtime (a browser catching up reads
 * slower than the runtime sends; the runtime then holds the rest). */
void leg_pause(struct leg *l, bool pause);

/* Hands the leg to another owner (a browser's own leg becomes the
 * worker's shared one: no second connection). Not from inside one of the
 * leg's own callbacks into its old owner unless that owner is done with
 * it. */
void leg_set_owner(struct leg *l, const struct leg_ops *ops, void *owner,
    const char *log_id, bool quiet);

/* Whether the browsers were told of the current outage. */
bool leg_announced(const struct leg *l);

/* The lws protocols of the client vhosts (one: "wrg-upstream"). */
extern const struct lws_protocols leg_protocols[];

/* At exit, before lws_context_destroy: detaches the leg from its wsi
 * and cancels its timers without telling anyone. */
void leg_abandon(struct leg *l);

#endif
