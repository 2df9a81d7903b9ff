/*
 * rtstate — per-runtime learnt state behind one mutex (see rtstate.h).
 * The mutex is held only to copy a few integers; never across I/O.
 */
#include "rtstate.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "xalloc.h"

struct rtstate_entry {
	unsigned unsupported;	/* bit per enum rtstate_op */
	long max_transcript;
};

struct rtstate {
	pthread_mutex_t mu;
	struct rtstate_entry *e;
	size_t n;
};

static const char *const rtstate_names[RTSTATE_OP__COUNT] = {
	"list_workers", "get_worker", "create_worker", "send_input",
	"stop_worker", "cancel_worker", "read_transcript", "stream_events"
};

struct rtstate *
rtstate_new(size_t n)
{
	struct rtstate *rs = xcalloc(1, sizeof(*rs));

	pthread_mutex_init(&rs->mu, NULL);
	rs->n = n;
	rs->e = xcalloc(n ? n : 1, sizeof(*rs->e));
	for (size_t i = 0; i < n; i++)
		rs->e[i].max_transcript = RTSTATE_DEFAULT_MAX_TRANSCRIPT;
	return rs;
}

void
rtstate_free(struct rtstate *rs)
{
	if (rs == NULL)
		return;
	pthread_mutex_destroy(&rs->mu);
	free(rs->e);
	free(rs);
}

void
rtstate_mark_unsupported(struct rtstate *rs, size_t idx, enum rtstate_op op)
{
	if (idx >= rs->n || op >= RTSTATE_OP__COUNT)
		return;
	pthread_mutex_lock(&rs->mu);
	rs->e[idx].unsupported |= 1u << op;
	pthread_mutex_unlock(&rs->mu);
}

void
rtstate_set_max_transcript(struct rtstate *rs, size_t idx, long v)
{
	if (idx >= rs->n || v < 0)
		return;
	pthread_mutex_lock(&rs->mu);
	rs->e[idx].max_transcript = v;
	pthread_mutex_unlock(&rs->mu);
}

struct json_object *
rtstate_capabilities(struct rtstate *rs, size_t idx)
{
	struct rtstate_entry e = { 0, RTSTATE_DEFAULT_MAX_TRANSCRIPT };
	struct json_object *o = json_object_new_object();

	if (idx < rs->n) {
		pthread_mutex_lock(&rs->mu);
		e = rs->e[idx];
		pthread_mutex_unlock(&rs->mu);
	}
	for (int op = 0; op < RTSTATE_OP__COUNT; op++)
		json_object_object_add(o, rtstate_names[op],
		    json_object_new_boolean(!(e.unsupported & (1u << op))));
	json_object_object_add(o, "max_transcript_items",
	    json_object_new_int64(e.max_transcript));
	return o;
}
