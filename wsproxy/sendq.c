/*
 * sendq — capped FIFO of outgoing frames (see sendq.h). A singly linked
 * list with a tail pointer; every node is one allocation holding headroom
 * and payload.
 */
#include "sendq.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct sendq_node {
	struct sendq_node *next;
	size_t len;
	unsigned char buf[];	/* headroom + payload */
};

struct sendq {
	struct sendq_node *head, *tail;
	size_t cap, headroom, bytes, count;
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
	struct sendq_node *n, *next;

	if (!q)
		return;
	for (n = q->head; n; n = next) {
		next = n->next;
		free(n);
	}
	q->head = q->tail = NULL;
	q->bytes = q->count = 0;
}

void
sendq_free(struct sendq *q)
{
	if (!q)
		return;
	sendq_clear(q);
	free(q);
}

enum sendq_err
sendq_push(struct sendq *q, const char *data, size_t len, int force)
{
	struct sendq_node *n;

	if (!force && (len > q->cap || q->bytes > q->cap - len))
		return SENDQ_ERR_FULL;
	n = xmalloc(sizeof(*n) + q->headroom + len + 1);
	n->next = NULL;
	n->len = len;
	memcpy(n->buf + q->headroom, data, len);
	n->buf[q->headroom + len] = '\0';
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	q->bytes += len;
	q->count++;
	return SENDQ_OK;
}

unsigned char *
sendq_peek(struct sendq *q, size_t *len)
{
	if (!q->head)
		return NULL;
	*len = q->head->len;
	return q->head->buf + q->headroom;
}

void
sendq_pop(struct sendq *q)
{
	struct sendq_node *n = q->head;

	if (!n)
		return;
	q->head = n->next;
	if (!q->head)
		q->tail = NULL;
	q->bytes -= n->len;
	q->count--;
	free(n);
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

const char *
sendq_strerror(enum sendq_err e)
{
	return e == SENDQ_OK ? "ok" : "send queue full";
}
