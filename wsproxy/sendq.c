/*
 * sendq — capped FIFO of shared frames (see sendq.h): a ring of sframe
 * pointers, grown by doubling.
 */
#include "sendq.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct sendq {
	struct sframe **ring;
	size_t ring_cap;	/* slots, a power of two (or 0) */
	size_t head;		/* index of the oldest frame */
	size_t count;
	size_t cap, headroom, bytes;
};

struct sendq *
sendq_new(size_t cap, size_t headroom)
{
	struct sendq *q = xcalloc(1, sizeof(*q));

	q->cap = cap;
	q->headroom = headroom;
	return q;
}

void
sendq_clear(struct sendq *q)
{
	if (q == NULL)
		return;
	while (q->count)
		sendq_pop(q);
	q->head = 0;
}

void
sendq_free(struct sendq *q)
{
	if (q == NULL)
		return;
	sendq_clear(q);
	free(q->ring);
	free(q);
}

static void
sendq_grow(struct sendq *q)
{
	size_t ncap = q->ring_cap ? q->ring_cap * 2 : 8, i;
	struct sframe **nr = xmalloc(ncap * sizeof(*nr));

	for (i = 0; i < q->count; i++)
		nr[i] = q->ring[(q->head + i) & (q->ring_cap - 1)];
	free(q->ring);
	q->ring = nr;
	q->ring_cap = ncap;
	q->head = 0;
}

/* Appends f, whose reference the queue now owns. */
static void
sendq_append(struct sendq *q, struct sframe *f)
{
	if (q->count == q->ring_cap)
		sendq_grow(q);
	q->ring[(q->head + q->count) & (q->ring_cap - 1)] = f;
	q->count++;
	q->bytes += f->len;
}

enum sendq_err
sendq_push(struct sendq *q, const char *data, size_t len, int force)
{
	if (!force && (len > q->cap || q->bytes > q->cap - len))
		return SENDQ_ERR_FULL;
	sendq_append(q, sframe_new(data, len, q->headroom));
	return SENDQ_OK;
}

enum sendq_err
sendq_push_frame_limit(struct sendq *q, struct sframe *f, size_t limit)
{
	if (f->len > limit || q->bytes > limit - f->len)
		return SENDQ_ERR_FULL;
	sendq_append(q, sframe_ref(f));
	return SENDQ_OK;
}

enum sendq_err
sendq_push_frame(struct sendq *q, struct sframe *f)
{
	return sendq_push_frame_limit(q, f, q->cap);
}

unsigned char *
sendq_peek(struct sendq *q, size_t *len)
{
	struct sframe *f;

	if (!q->count)
		return NULL;
	f = q->ring[q->head];
	*len = f->len;
	return sframe_payload(f);
}

void
sendq_pop(struct sendq *q)
{
	struct sframe *f;

	if (!q->count)
		return;
	f = q->ring[q->head];
	q->head = (q->head + 1) & (q->ring_cap - 1);
	q->count--;
	q->bytes -= f->len;
	sframe_unref(f);
}

size_t
sendq_bytes(const struct sendq *q)
{
	return q->bytes;
}

size_t
sendq_cap(const struct sendq *q)
{
	return q->cap;
}

size_t
sendq_count(const struct sendq *q)
{
	return q->count;
}

size_t
sendq_headroom(const struct sendq *q)
{
	return q->headroom;
}

const char *
sendq_strerror(enum sendq_err e)
{
	return e == SENDQ_OK ? "ok" : "send queue full";
}
