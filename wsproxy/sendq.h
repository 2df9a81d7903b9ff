/*
 * sendq — one browser's queue of outgoing text frames, with a hard cap on
 * the bytes it holds, fixed at creation. Each frame is stored with
 * LWS_PRE bytes of headroom so it can be handed to lws_write() as is.
 * Frames are written only from WRITEABLE, one per callback.
 */
#ifndef WRG_WSPROXY_SENDQ_H
#define WRG_WSPROXY_SENDQ_H

#include <stddef.h>

enum sendq_err {
	SENDQ_OK = 0,
	SENDQ_ERR_FULL		/* the frame would pass the cap; not queued */
};

struct sendq;

/* A new empty queue holding at most cap payload bytes. headroom is the
 * space reserved before each payload (LWS_PRE). Owned by the caller. */
struct sendq *sendq_new(size_t cap, size_t headroom);

/* Frees q and every frame in it. NULL is a no-op. */
void sendq_free(struct sendq *q);

/* Copies data[0..len) to the tail. With force, the cap is ignored (for the
 * one final diagnostic after the queue was cleared). */
enum sendq_err sendq_push(struct sendq *q, const char *data, size_t len,
    int force);

/* The head frame: returns a pointer to its payload (with headroom bytes
 * writable before it) and sets *len, or NULL when empty. Borrowed until
 * sendq_pop/sendq_clear/sendq_free. */
unsigned char *sendq_peek(struct sendq *q, size_t *len);

/* Drops the head frame. */
void sendq_pop(struct sendq *q);

/* Drops every frame. */
void sendq_clear(struct sendq *q);

size_t sendq_bytes(const struct sendq *q);
/* The cap given to sendq_new. */
size_t sendq_cap(const struct sendq *q);
size_t sendq_count(const struct sendq *q);

const char *sendq_strerror(enum sendq_err e);

#endif
