/*
 * sendq — one browser's queue of outgoing text frames (shared sframes,
 * one reference each), with a hard cap on the payload bytes it holds,
 * fixed at creation. Frames are written only from WRITEABLE, one per
 * callback. The queue is a ring of pointers that grows by doubling, so
 * queueing a shared frame allocates nothing in the steady state.
 */
#ifndef WRG_WSPROXY_SENDQ_H
#define WRG_WSPROXY_SENDQ_H

#include <stddef.h>

#include "sframe.h"

enum sendq_err {
	SENDQ_OK = 0,
	SENDQ_ERR_FULL		/* the frame would pass the cap; not queued */
};

struct sendq;

/* A new empty queue holding at most cap payload bytes. headroom is the
 * space reserved before each payload (LWS_PRE) in frames it makes.
 * Owned by the caller. */
struct sendq *sendq_new(size_t cap, size_t headroom);

/* Frees q and drops its references. NULL is a no-op. */
void sendq_free(struct sendq *q);

/* Copies data[0..len) into a new frame at the tail. With force, the cap
 * is ignored (for the one final diagnostic after the queue was
 * cleared). */
enum sendq_err sendq_push(struct sendq *q, const char *data, size_t len,
    int force);

/* Queues f (taking a reference of its own) unless it would pass the
 * cap. */
enum sendq_err sendq_push_frame(struct sendq *q, struct sframe *f);

/* Queues f unless the queue would then hold more than limit bytes
 * (limit may be above the cap: a frame already received that must not
 * be lost). */
enum sendq_err sendq_push_frame_limit(struct sendq *q, struct sframe *f,
    size_t limit);

/* The head frame: returns a pointer to its payload (with headroom bytes
 * writable before it) and sets *len, or NULL when empty. Borrowed until
 * sendq_pop/sendq_clear/sendq_free. */
unsigned char *sendq_peek(struct sendq *q, size_t *len);

/* Drops the head frame. */
void sendq_pop(struct sendq *q);

/* Drops every frame. */
void sendq_clear(struct sendq *q);

size_t sendq_bytes(const struct sendq *q);
size_t sendq_cap(const struct sendq *q);
size_t sendq_count(const struct sendq *q);
size_t sendq_headroom(const struct sendq *q);

const char *sendq_strerror(enum sendq_err e);

#endif
