/*
 * store — workers, transcripts and the event sequence of
 * wrg-sample-runtime, optionally persisted as an append-only JSON-lines
 * event log (DIR/events.jsonl). Each line is one event:
 *
 *   {"seq":N,"worker_id":"worker-00000001","payload":{...},"rec":{...}}
 *
 * "rec" says how the event changes state ("create" carries the worker's
 * spec; "entry", "status", "tick" read their data from the payload; no
 * rec = a pure stream event such as text_delta). Replaying the log in
 * order rebuilds everything, including the retention ring. A line is
 * written with one write(2) including its newline before the event is
 * applied or sent, so a line without newline is exactly an event that
 * never happened; replay cuts it off.
 */
#include "config.h"

#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wjson.h"
#include "xalloc.h"

#define STORE_MAX_LINE (8u << 20)	/* one event line, replay cap */

struct store {
	char *log_path;			/* NULL = memory only */
	int fd;
	off_t log_size;
	struct store_worker **workers;
	size_t n_workers, cap_workers;
	uint64_t head;
	struct store_event *ring;	/* retention slots, seq % retention */
	size_t retention;
	store_listener_fn listener;
	void *listener_arg;
};

const char *
store_strstatus(enum store_status s)
{
	switch (s) {
	case STORE_RUNNING: return "running";
	case STORE_STOPPED: return "stopped";
	case STORE_CANCELLED: return "cancelled";
	}
	return "running";
}

const char *
store_strerror(enum store_err e)
{
	switch (e) {
	case STORE_OK: return "ok";
	case STORE_IO: return "event log i/o error";
	case STORE_CORRUPT: return "event log corrupt";
	}
	return "unknown";
}

/* The static role name of a transcript entry; anything unknown in a log
 * reads as "user", as before replies were recorded. */
static const char *
store_entry_role(const char *role)
{
	if (strcmp(role, "system") == 0)
		return "system";
	if (strcmp(role, "assistant") == 0)
		return "assistant";
	return "user";
}

static int
store_status_parse(const char *s, enum store_status *out)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "running") == 0)
		*out = STORE_RUNNING;
	else if (strcmp(s, "stopped") == 0)
		*out = STORE_STOPPED;
	else if (strcmp(s, "cancelled") == 0)
		*out = STORE_CANCELLED;
	else
		return -1;
	return 0;
}

size_t
store_worker_count(const struct store *st)
{
	return st->n_workers;
}

struct store_worker *
store_worker_at(struct store *st, size_t i)
{
	return i < st->n_workers ? st->workers[i] : NULL;
}

/* Worker ids are "worker-" + 8 lower-case hex of (index + 1), so lookup
 * is O(1); anything else is simply not found. */
struct store_worker *
store_worker_find(struct store *st, const char *id)
{
	unsigned long n = 0;
	size_t i;

	if (id == NULL || strlen(id) != 15 || strncmp(id, "worker-", 7) != 0)
		return NULL;
	for (i = 7; i < 15; i++) {
		char c = id[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return NULL;
		n = n * 16 + (unsigned long)d;
	}
	if (n == 0 || n > st->n_workers)
		return NULL;
	return st->workers[n - 1];
}

uint64_t
store_head(const struct store *st)
{
	return st->head;
}

uint64_t
store_oldest(const struct store *st)
{
	if (st->head == 0)
		return 1;
	if (st->head >= st->retention)
		return st->head - st->retention + 1;
	return 1;
}

const struct store_event *
store_event_get(const struct store *st, uint64_t seq)
{
	const struct store_event *ev;

	if (seq == 0 || seq > st->head || seq < store_oldest(st))
		return NULL;
	ev = &st->ring[seq % st->retention];
	return ev->seq == seq ? ev : NULL;
}

void
store_set_listener(struct store *st, store_listener_fn fn, void *arg)
{
	st->listener = fn;
	st->listener_arg = arg;
}

static void
store_worker_free(struct store_worker *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n_entries; i++)
		json_object_put(w->entries[i].content);
	free(w->entries);
	json_object_put(w->spec);
	free(w);
}

void
store_free(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	if (st->fd >= 0)
		close(st->fd);
	for (i = 0; i < st->n_workers; i++)
		store_worker_free(st->workers[i]);
	free(st->workers);
	if (st->ring != NULL)
		for (i = 0; i < st->retention; i++)
			json_object_put(st->ring[i].payload);
	free(st->ring);
	free(st->log_path);
	free(st);
}

static struct json_object *
store_payload_data(struct json_object *payload)
{
	struct json_object *d = NULL;

	if (!json_object_object_get_ex(payload, "data", &d) ||
	    !json_object_is_type(d, json_type_object))
		return NULL;
	return d;
}

/*
 * Applies one event to memory: the same code for replay and live events,
 * so a replayed runtime is exactly the one that wrote the log. Takes no
 * ownership; keeps its own references. Returns STORE_CORRUPT when the
 * record does not fit the current state (only possible in replay).
 */
static enum store_err
store_apply(struct store *st, uint64_t seq, const char *wid,
    struct json_object *payload, struct json_object *rec)
{
	struct store_worker *w = NULL;
	struct json_object *data = store_payload_data(payload);
	struct store_event *slot;
	const char *op = rec != NULL ? wjson_get_string(rec, "op") : NULL;

	if (seq != st->head + 1 || data == NULL)
		return STORE_CORRUPT;
	if (op != NULL && strcmp(op, "create") == 0) {
		struct json_object *spec = NULL;
		char id[24];

		snprintf(id, sizeof(id), "worker-%08zx", st->n_workers + 1);
		if (wid == NULL || strcmp(wid, id) != 0 ||
		    !json_object_object_get_ex(rec, "spec", &spec) ||
		    !json_object_is_type(spec, json_type_object))
			return STORE_CORRUPT;
		w = xcalloc(1, sizeof(*w));
		memcpy(w->id, id, sizeof(id));
		w->status = STORE_RUNNING;
		w->spec = json_object_get(spec);
		if (st->n_workers == st->cap_workers) {
			st->cap_workers = st->cap_workers ? st->cap_workers * 2
			    : 16;
			st->workers = xrealloc(st->workers,
			    st->cap_workers * sizeof(*st->workers));
		}
		st->workers[st->n_workers++] = w;
	} else {
		w = store_worker_find(st, wid);
		if (w == NULL)
			return STORE_CORRUPT;
	}
	if (op == NULL || strcmp(op, "create") == 0) {
		/* stream event or creation: nothing more to apply */
	} else if (strcmp(op, "entry") == 0) {
		struct json_object *content = NULL;
		const char *role = wjson_get_string(data, "role");

		if (!json_object_object_get_ex(data, "content", &content) ||
		    !json_object_is_type(content, json_type_string) ||
		    role == NULL)
			return STORE_CORRUPT;
		if (w->n_entries == w->cap_entries) {
			w->cap_entries = w->cap_entries ? w->cap_entries * 2
			    : 8;
			w->entries = xrealloc(w->entries,
			    w->cap_entries * sizeof(*w->entries));
		}
		w->entries[w->n_entries].role = store_entry_role(role);
		w->entries[w->n_entries].content = json_object_get(content);
		w->entries[w->n_entries].event_id = seq;
		w->n_entries++;
	} else if (strcmp(op, "status") == 0) {
		if (store_status_parse(wjson_get_string(data, "status"),
		    &w->status) != 0)
			return STORE_CORRUPT;
	} else if (strcmp(op, "tick") == 0) {
		struct json_object *n = NULL;

		if (!json_object_object_get_ex(data, "n", &n) ||
		    !json_object_is_type(n, json_type_int))
			return STORE_CORRUPT;
		w->tick_n = (uint64_t)json_object_get_int64(n);
	} else {
		return STORE_CORRUPT;
	}
	w->last_event_id = seq;
	st->head = seq;
	slot = &st->ring[seq % st->retention];
	json_object_put(slot->payload);
	slot->seq = seq;
	slot->worker = w;
	slot->payload = json_object_get(payload);
	return STORE_OK;
}

static int
store_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Makes one event happen: written to the log (if any), applied, then
 * announced. payload and rec are owned by this call. The written line is
 * cut off again if the write fails, so a failed event leaves no trace.
 */
static enum store_err
store_append(struct store *st, const char *wid, struct json_object *payload,
    struct json_object *rec, uint64_t *seq_out)
{
	enum store_err rc = STORE_OK;
	uint64_t seq = st->head + 1;
	struct json_object *line = NULL;
	char *buf = NULL;

	if (st->fd >= 0) {
		const char *s;
		size_t len;

		line = json_object_new_object();
		json_object_object_add(line, "seq",
		    json_object_new_int64((int64_t)seq));
		json_object_object_add(line, "worker_id",
		    json_object_new_string(wid));
		json_object_object_add(line, "payload",
		    json_object_get(payload));
		if (rec != NULL)
			json_object_object_add(line, "rec",
			    json_object_get(rec));
		s = wjson_str(line, &len);
		buf = xmalloc(len + 1);
		memcpy(buf, s, len);
		buf[len] = '\n';
		if (store_write_all(st->fd, buf, len + 1) != 0) {
			if (ftruncate(st->fd, st->log_size) != 0) {
				/* the next replay cuts the torn line */
			}
			rc = STORE_IO;
			goto out;
		}
		st->log_size += (off_t)(len + 1);
	}
	rc = store_apply(st, seq, wid, payload, rec);
	if (rc != STORE_OK)
		goto out;
	if (seq_out != NULL)
		*seq_out = seq;
	if (st->listener != NULL)
		st->listener(st->listener_arg, store_event_get(st, seq));
out:
	free(buf);
	json_object_put(line);
	json_object_put(payload);
	json_object_put(rec);
	return rc;
}

static struct json_object *
store_make_payload(const char *event, struct json_object *data)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "event", json_object_new_string(event));
	json_object_object_add(p, "data", data);
	return p;
}

static struct json_object *
store_make_rec(const char *op)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "op", json_object_new_string(op));
	return r;
}

static struct json_object *
store_status_data(enum store_status s)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "status",
	    json_object_new_string(store_strstatus(s)));
	return d;
}

enum store_err
store_worker_create(struct store *st, struct json_object *spec,
    struct store_worker **out)
{
	struct json_object *rec = store_make_rec("create");
	char id[24];
	enum store_err rc;

	*out = NULL;
	snprintf(id, sizeof(id), "worker-%08zx", st->n_workers + 1);
	json_object_object_add(rec, "spec", spec);
	rc = store_append(st, id,
	    store_make_payload("status", store_status_data(STORE_RUNNING)),
	    rec, NULL);
	if (rc == STORE_OK)
		*out = st->workers[st->n_workers - 1];
	return rc;
}

/* Splits the reply into three chunks on UTF-8 character boundaries. */
static enum store_err
store_stream_reply(struct store *st, struct store_worker *w, const char *text,
    size_t len)
{
	size_t start = 0, k;
	enum store_err rc;

	for (k = 1; k <= 3; k++) {
		size_t end = k == 3 ? len : len * k / 3;
		struct json_object *d;

		while (end < len && ((unsigned char)text[end] & 0xc0) == 0x80)
			end++;
		if (end <= start)
			continue;
		d = json_object_new_object();
		json_object_object_add(d, "text",
		    json_object_new_string_len(text + start,
		    (int)(end - start)));
		rc = store_append(st, w->id, store_make_payload("text_delta",
		    d), NULL,
		    NULL);
		if (rc != STORE_OK)
			return rc;
		start = end;
	}
	{
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "text",
		    json_object_new_string_len(text, (int)len));
		return store_append(st, w->id, store_make_payload("text_done",
		    d), NULL,
		    NULL);
	}
}

/* Appends one transcript entry (content: a json string, a new reference
 * is taken) as a "transcript" event. */
static enum store_err
store_add_entry(struct store *st, struct store_worker *w, const char *role,
    struct json_object *content, uint64_t *event_id)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "sequence",
	    json_object_new_int64((int64_t)w->n_entries + 1));
	json_object_object_add(d, "role", json_object_new_string(role));
	json_object_object_add(d, "content", json_object_get(content));
	return store_append(st, w->id, store_make_payload("transcript", d),
	    store_make_rec("entry"), event_id);
}

enum store_err
store_input(struct store *st, struct store_worker *w, const char *role,
    struct json_object *content, uint64_t *tseq, uint64_t *event_id)
{
	enum store_err rc;
	const char *c = json_object_get_string(content);
	size_t clen = (size_t)json_object_get_string_len(content);
	char *reply = NULL;
	struct json_object *said = NULL;

	rc = store_add_entry(st, w, role, content, event_id);
	if (rc != STORE_OK)
		goto out;
	*tseq = w->n_entries;
	reply = xmalloc(clen + 7);
	memcpy(reply, "echo: ", 6);
	memcpy(reply + 6, c, clen);
	reply[clen + 6] = '\0';
	rc = store_stream_reply(st, w, reply, clen + 6);
	if (rc != STORE_OK)
		goto out;
	/* The reply is part of the conversation too: a reader of the
	 * transcript (or a snapshot's entries) sees both sides. */
	said = json_object_new_string_len(reply, (int)(clen + 6));
	rc = store_add_entry(st, w, "assistant", said, NULL);
out:
	json_object_put(said);
	free(reply);
	return rc;
}

enum store_err
store_set_status(struct store *st, struct store_worker *w,
    enum store_status s, uint64_t *event_id)
{
	return store_append(st, w->id, store_make_payload("status",
	    store_status_data(s)),
	    store_make_rec("status"), event_id);
}

enum store_err
store_tick(struct store *st, struct store_worker *w, uint64_t *event_id)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "n",
	    json_object_new_int64((int64_t)(w->tick_n + 1)));
	return store_append(st, w->id, store_make_payload("tick", d),
	    store_make_rec("tick"),
	    event_id);
}

/* Replays one log line; see store_apply(). */
static enum store_err
store_replay_line(struct store *st, const char *line, size_t len)
{
	struct json_object *o = wjson_parse(line, len, WJSON_MAX_DEPTH);
	struct json_object *seq = NULL, *payload = NULL, *rec = NULL;
	enum store_err rc = STORE_CORRUPT;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	if (!json_object_object_get_ex(o, "seq", &seq) ||
	    !json_object_is_type(seq, json_type_int) ||
	    !json_object_object_get_ex(o, "payload", &payload) ||
	    !json_object_is_type(payload, json_type_object))
		goto out;
	json_object_object_get_ex(o, "rec", &rec);
	rc = store_apply(st, (uint64_t)json_object_get_int64(seq),
	    wjson_get_string(o, "worker_id"), payload, rec);
out:
	json_object_put(o);
	return rc;
}

static enum store_err
store_replay(struct store *st, char *err, size_t errlen)
{
	enum store_err rc = STORE_OK;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t good = 0;
	unsigned long lineno = 0;

	f = fopen(st->log_path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return STORE_OK;
		snprintf(err, errlen, "%s: %s", st->log_path, strerror(errno));
		return STORE_IO;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n')
			break;	/* torn by kill -9: it never happened */
		if ((size_t)n > STORE_MAX_LINE ||
		    store_replay_line(st, line, (size_t)n - 1) != STORE_OK) {
			snprintf(err, errlen, "%s: line %lu: bad event record",
			    st->log_path, lineno);
			rc = STORE_CORRUPT;
			goto out;
		}
		good += n;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", st->log_path, strerror(errno));
		rc = STORE_IO;
		goto out;
	}
	st->log_size = good;
out:
	free(line);
	fclose(f);
	return rc;
}

enum store_err
store_open(struct store **out, const char *dir, size_t retention,
    char *err, size_t errlen)
{
	struct store *st = xcalloc(1, sizeof(*st));
	enum store_err rc = STORE_OK;

	*out = NULL;
	st->fd = -1;
	st->retention = retention > 0 ? retention : 1;
	st->ring = xcalloc(st->retention, sizeof(*st->ring));
	if (dir != NULL) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			rc = STORE_IO;
			goto out;
		}
		st->log_path = xasprintf("%s/events.jsonl", dir);
		rc = store_replay(st, err, errlen);
		if (rc != STORE_OK)
			goto out;
		st->fd = open(st->log_path, O_WRONLY | O_CREAT | O_CLOEXEC,
		    0600);
		if (st->fd < 0 || ftruncate(st->fd, st->log_size) != 0 ||
		    lseek(st->fd, st->log_size, SEEK_SET) < 0) {
			snprintf(err, errlen, "%s: %s", st->log_path,
			    strerror(errno));
			rc = STORE_IO;
			goto out;
		}
	}
	*out = st;
	st = NULL;
out:
	store_free(st);
	return rc;
}
