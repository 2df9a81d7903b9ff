/*
 * rtstate — what wrg.fcgi has learnt about each runtime while running,
 * shared by all FastCGI threads: which operations the runtime answered as
 * unsupported (a router 404/405; sticky until restart) and the last known
 * transcript limit. Shown to browsers as RuntimeView.capabilities.
 */
#ifndef WRG_RTSTATE_H
#define WRG_RTSTATE_H

#include <stddef.h>

#include <json-c/json.h>

enum rtstate_op {
	RTSTATE_OP_LIST_WORKERS = 0,
	RTSTATE_OP_GET_WORKER,
	RTSTATE_OP_CREATE_WORKER,
	RTSTATE_OP_SEND_INPUT,
	RTSTATE_OP_STOP_WORKER,
	RTSTATE_OP_CANCEL_WORKER,
	RTSTATE_OP_READ_TRANSCRIPT,
	RTSTATE_OP_STREAM_EVENTS,
	RTSTATE_OP__COUNT
};

#define RTSTATE_DEFAULT_MAX_TRANSCRIPT 256

struct rtstate;

/* State for n runtimes (registry indexes 0..n-1), all operations
 * supported, transcript limit at the contract default. Owned by the
 * caller; free with rtstate_free (NULL is a no-op). */
struct rtstate *rtstate_new(size_t n);
void rtstate_free(struct rtstate *rs);

/* Records that runtime idx does not implement op. Thread-safe. */
void rtstate_mark_unsupported(struct rtstate *rs, size_t idx,
    enum rtstate_op op);

/* Records the runtime's limits.max_transcript_projection_items. */
void rtstate_set_max_transcript(struct rtstate *rs, size_t idx, long v);

/* A new capabilities object (owned by the caller) for runtime idx. */
struct json_object *rtstate_capabilities(struct rtstate *rs, size_t idx);

#endif
