/*
 * resume — the bookkeeping that lets one browser stream survive any
 * number of upstream reconnects with every event delivered exactly once,
 * in order. Pure state, no sockets, so the rules are unit-tested:
 *
 *  - the position is the cursor of the last event put on the browser's
 *    queue (initially the browser's ?cursor=, or none);
 *  - a reconnect asks the runtime for ?cursor=position, and drops the
 *    snapshot the runtime sends first (the browser already has state);
 *  - the first snapshot of the stream is forwarded; when the browser gave
 *    no cursor its cursor becomes the position, so a drop before any
 *    further event loses nothing;
 *  - after runtime.cursor_unknown_or_expired the position is forgotten and
 *    the next snapshot is forwarded (after backend.resynced);
 *  - reconnect delays double from the initial value up to the maximum and
 *    start again only once a leg proved healthy (proxy.c: it delivered an
 *    event after its snapshot, or stayed up for reconnect_max_ms); a
 *    runtime that accepts the upgrade and closes at once is retried with
 *    the growing delay, not at the initial one forever.
 */
#ifndef WRG_WSPROXY_RESUME_H
#define WRG_WSPROXY_RESUME_H

#include <stdbool.h>

#include "frame.h"

struct resume {
	char cursor[FRAME_CURSOR_MAX + 1];	/* "" = none */
	bool have_state;	/* a snapshot reached the browser queue */
	bool resync;		/* forward the next snapshot */
	unsigned attempt;	/* failed connects since the last success */
};

enum resume_verdict {
	RESUME_FORWARD = 0,
	RESUME_DROP
};

/* Starts a stream; browser_cursor may be NULL or "". */
void resume_init(struct resume *r, const char *browser_cursor);

/* The cursor to pass upstream now, or NULL for none. Borrowed from r. */
const char *resume_connect_cursor(const struct resume *r);

/* Decides about one upstream event and updates the position. */
enum resume_verdict resume_on_event(struct resume *r, const char *cursor,
    bool snapshot);

/* The runtime no longer has our position: forget it, take the next
 * snapshot. */
void resume_on_expired(struct resume *r);

/* An upstream leg proved healthy: the backoff starts over. */
void resume_on_healthy(struct resume *r);

/* The delay before the next connect attempt, and counts the attempt. */
unsigned resume_next_delay_ms(struct resume *r, unsigned initial_ms,
    unsigned max_ms);

/* The backoff schedule: initial_ms * 2^attempt, capped at max_ms (and
 * never below 1 ms; max below initial means initial). */
unsigned resume_backoff_ms(unsigned attempt, unsigned initial_ms,
    unsigned max_ms);

#endif
