/*
 * store — the state of wrg-sample-runtime: workers, their transcripts,
 * and the one per-runtime event sequence with its bounded retention
 * window. Every state change is an event; with a state dir each event is
 * appended to DIR/events.jsonl with write(2) before anyone is told about
 * it, and store_open() replays that log, so a restarted runtime continues
 * with the same workers, transcripts, sequence and retention window.
 *
 * Single-threaded: everything runs on the lws service thread.
 */
#ifndef SR_STORE_H
#define SR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

enum store_err {
	STORE_OK = 0,
	STORE_IO,		/* the event log could not be written/read */
	STORE_CORRUPT		/* the log is damaged before its end */
};

enum store_status {
	STORE_RUNNING = 0,
	STORE_STOPPED,
	STORE_CANCELLED
};

struct store_entry {
	const char *role;	/* "user", "system", "assistant" (static) */
	struct json_object *content;	/* json string, owned */
	uint64_t event_id;
};

struct store_worker {
	char id[24];			/* "worker-" + 8 hex */
	enum store_status status;
	struct json_object *spec;	/* validated create request, owned */
	struct store_entry *entries;
	size_t n_entries, cap_entries;
	uint64_t last_event_id;
	uint64_t tick_n;
};

/* One retained event. payload is owned by the store's ring. */
struct store_event {
	uint64_t seq;
	const struct store_worker *worker;
	struct json_object *payload;
};

struct store;

/* Called after an event is durable (written) and applied. */
typedef void (*store_listener_fn)(void *arg, const struct store_event *ev);

/* Opens the store. dir NULL = memory only. With a dir, replays
 * DIR/events.jsonl (a torn last line, as left by kill -9, is cut off) and
 * opens it for appending. On failure returns non-OK and writes a reason
 * naming the file into err. The store is owned by the caller
 * (store_free). */
enum store_err store_open(struct store **out, const char *dir,
    size_t retention, char *err, size_t errlen);
void store_free(struct store *st);

void store_set_listener(struct store *st, store_listener_fn fn, void *arg);

const char *store_strstatus(enum store_status s);
const char *store_strerror(enum store_err e);

size_t store_worker_count(const struct store *st);
struct store_worker *store_worker_at(struct store *st, size_t i);
/* NULL when no worker has this id. */
struct store_worker *store_worker_find(struct store *st, const char *id);

/* Creates a running worker from a validated spec (ownership taken) and
 * emits its status event. *out is NULL on STORE_IO. */
enum store_err store_worker_create(struct store *st, struct json_object *spec,
    struct store_worker **out);

/* Appends a transcript entry (content: json string, a new reference is
 * taken), streams the echoed reply and appends that reply as an
 * "assistant" entry. *tseq / *event_id describe the input's entry. */
enum store_err store_input(struct store *st, struct store_worker *w,
    const char *role, struct json_object *content, uint64_t *tseq,
    uint64_t *event_id);

/* Changes the status and emits a status event. */
enum store_err store_set_status(struct store *st, struct store_worker *w,
    enum store_status s, uint64_t *event_id);

/* Emits one tick event {"n": ++tick_n}. */
enum store_err store_tick(struct store *st, struct store_worker *w,
    uint64_t *event_id);

/* The newest sequence number (0 = no event yet). */
uint64_t store_head(const struct store *st);
/* The oldest retained sequence number (head + 1 when nothing retained). */
uint64_t store_oldest(const struct store *st);
/* The retained event with this seq, or NULL. Borrowed. */
const struct store_event *store_event_get(const struct store *st,
    uint64_t seq);

#endif
