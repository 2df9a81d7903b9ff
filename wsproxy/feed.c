/*
 * feed — shared upstreams (see feed.h for the rules and ownership).
 */
#include "feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "ids.h"
#include "leg.h"
#include "proxy.h"
#include "session.h"
#include "sframe.h"
#include "wlog.h"
#include "xalloc.h"

#define FEED_BUCKETS 1024	/* a power of two */

struct feed {
	lws_dll2_t all;			/* fs->all */
	lws_dll2_t bucket;		/* fs->buckets[], while findable */
	struct feed_set *fs;
	char id[IDS_REQUEST_ID_MAX + 1];	/* for logs */
	char runtime_id[IDS_RUNTIME_ID_MAX + 1];
	char worker_id[IDS_WORKER_ID_MAX + 1];
	size_t worker_id_len;
	uint32_t hash;
	bool findable;
	struct leg *leg;
	lws_dll2_owner_t subs;		/* sessions watching live */
	uint64_t base;			/* every event after it is here */
	/* The replay ring: the newest frames, oldest first. */
	struct sframe **ring;
	size_t ring_cap, ring_head, ring_count, ring_bytes, ring_max;
	lws_sorted_usec_list_t sul_linger;
};

struct feed_set {
	struct proxy *p;
	lws_dll2_owner_t all;
	lws_dll2_owner_t buckets[FEED_BUCKETS];
};

static uint32_t
feed_hash(const char *runtime_id, const char *worker_id, size_t wlen)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; runtime_id[i]; i++)
		h = (h ^ (unsigned char)runtime_id[i]) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (i = 0; i < wlen; i++)
		h = (h ^ (unsigned char)worker_id[i]) * 16777619u;
	return h;
}

struct feed_set *
feed_set_new(struct proxy *p)
{
	struct feed_set *fs = xcalloc(1, sizeof(*fs));

	fs->p = p;
	return fs;
}

size_t
feed_set_count(const struct feed_set *fs)
{
	return (size_t)fs->all.count;
}

static void
feed_unfind(struct feed *f)
{
	if (!f->findable)
		return;
	f->findable = false;
	lws_dll2_remove(&f->bucket);
}

/* ---- the replay ring ----------------------------------------------- */

static void
feed_ring_drop_oldest(struct feed *f)
{
	struct sframe *fr = f->ring[f->ring_head];

	if (fr->has_seq && fr->seq > f->base)
		f->base = fr->seq;
	f->ring_head = (f->ring_head + 1) & (f->ring_cap - 1);
	f->ring_count--;
	f->ring_bytes -= fr->len;
	sframe_unref(fr);
}

static void
feed_ring_clear(struct feed *f)
{
	while (f->ring_count)
		feed_ring_drop_oldest(f);
}

static struct sframe *
feed_ring_at(const struct feed *f, size_t i)
{
	return f->ring[(f->ring_head + i) & (f->ring_cap - 1)];
}

/* Keeps a reference on fr at the ring's end, dropping the oldest frames
 * past the byte budget (base moves up with them). */
static void
feed_ring_add(struct feed *f, struct sframe *fr)
{
	if (!f->ring_max) {
		if (fr->seq > f->base)
			f->base = fr->seq;
		return;
	}
	while (f->ring_count && f->ring_bytes + fr->len > f->ring_max)
		feed_ring_drop_oldest(f);
	if (fr->len > f->ring_max) {
		f->base = fr->seq;
		return;
	}
	if (f->ring_count == f->ring_cap) {
		size_t ncap = f->ring_cap ? f->ring_cap * 2 : 16, i;
		struct sframe **nr = xmalloc(ncap * sizeof(*nr));

		for (i = 0; i < f->ring_count; i++)
			nr[i] = feed_ring_at(f, i);
		free(f->ring);
		f->ring = nr;
		f->ring_cap = ncap;
		f->ring_head = 0;
	}
	f->ring[(f->ring_head + f->ring_count) & (f->ring_cap - 1)] =
	    sframe_ref(fr);
	f->ring_count++;
	f->ring_bytes += fr->len;
}

/* ---- lifetime ------------------------------------------------------ */

static void
feed_free(struct feed *f)
{
	lws_sul_cancel(&f->sul_linger);
	feed_unfind(f);
	lws_dll2_remove(&f->all);
	leg_free(f->leg);
	feed_ring_clear(f);
	free(f->ring);
	free(f);
}

static void
feed_linger_cb(lws_sorted_usec_list_t *sul)
{
	struct feed *f = lws_container_of(sul, struct feed, sul_linger);

	if (f->subs.count)
		return;
	wlog(WLOG_DEBUG, f->id, f->runtime_id, "shared upstream closed: no "
	    "browser left");
	feed_free(f);
}

/* Takes every session off f, calling fn on each. */
static void
feed_drain(struct feed *f, void (*fn)(struct session *, void *), void *arg)
{
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&f->subs)) {
		struct session *s = session_of_feed_node(d);

		lws_dll2_remove(d);
		fn(s, arg);
	} lws_end_foreach_dll_safe(d, d1);
}

struct feed_end {
	enum frame_diag d;
	int code;
};

static void
feed_end_one(struct session *s, void *arg)
{
	const struct feed_end *e = arg;

	session_feed_finish(s, e->d, e->code);
}

static void
feed_break_one(struct session *s, void *arg)
{
	(void)arg;
	session_feed_broken(s);
}

/* The runtime's cursors are not ordered ones after all: every session
 * goes on with its own leg, and this feed goes. */
static void
feed_break(struct feed *f)
{
	wlog(WLOG_WARN, f->id, f->runtime_id, "runtime cursor not in the "
	    "contract's form: this worker's browsers are served one upstream "
	    "each");
	feed_unfind(f);
	feed_drain(f, feed_break_one, NULL);
	feed_free(f);
}

/* ---- the leg's news ------------------------------------------------ */

static void
feed_on_event(void *owner, struct sframe *fr, bool snapshot)
{
	struct feed *f = owner;

	if (!fr->has_seq) {
		sframe_unref(fr);
		feed_break(f);
		return;
	}
	if (snapshot) {
		/* Only after runtime.cursor_unknown_or_expired (the leg
		 * drops the others): positions start over from here. */
		feed_ring_clear(f);
		f->base = fr->seq;
		lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
		    lws_dll2_get_head(&f->subs)) {
			session_take_snapshot(session_of_feed_node(d), fr);
		} lws_end_foreach_dll_safe(d, d1);
		sframe_unref(fr);
		/* Those whose queue could not take it left: if that was
		 * everyone, the feed lingers and goes like any other. */
		if (!f->subs.count)
			feed_leave(f, NULL);
		return;
	}
	if (fr->seq <= f->base) {
		sframe_unref(fr);
		return;
	}
	feed_ring_add(f, fr);
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&f->subs)) {
		struct session *s = session_of_feed_node(d);

		if (!session_take_frame(s, fr))
			lws_dll2_remove(d);
	} lws_end_foreach_dll_safe(d, d1);
	sframe_unref(fr);
	if (!f->subs.count)
		feed_leave(f, NULL);
}

static void
feed_on_diag(void *owner, enum frame_diag d)
{
	struct feed *f = owner;

	wlog(WLOG_DEBUG, f->id, f->runtime_id, "%s to %u browsers",
	    frame_diag_code(d), (unsigned)f->subs.count);

	lws_start_foreach_dll_safe(struct lws_dll2 *, n, n1,
	    lws_dll2_get_head(&f->subs)) {
		session_feed_diag(session_of_feed_node(n), d);
	} lws_end_foreach_dll_safe(n, n1);
}

static void
feed_on_finish(void *owner, enum frame_diag d, int code)
{
	struct feed *f = owner;
	struct feed_end e = { d, code };

	feed_unfind(f);
	feed_drain(f, feed_end_one, &e);
	feed_free(f);
}

static const struct leg_ops feed_leg_ops = {
	feed_on_event, feed_on_diag, feed_on_finish
};

/* ---- sessions ------------------------------------------------------ */

static struct feed *
feed_find(struct feed_set *fs, uint32_t h, const char *runtime_id,
    const char *worker_id, size_t wlen)
{
	lws_start_foreach_dll(struct lws_dll2 *, d,
	    lws_dll2_get_head(&fs->buckets[h & (FEED_BUCKETS - 1)])) {
		struct feed *f = lws_container_of(d, struct feed, bucket);

		if (f->hash == h && f->worker_id_len == wlen &&
		    memcmp(f->worker_id, worker_id, wlen) == 0 &&
		    strcmp(f->runtime_id, runtime_id) == 0)
			return f;
	} lws_end_foreach_dll(d);
	return NULL;
}

static void
feed_link(struct feed_set *fs, struct feed *f)
{
	lws_dll2_add_tail(&f->all, &fs->all);
	lws_dll2_add_tail(&f->bucket, &fs->buckets[f->hash &
	    (FEED_BUCKETS - 1)]);
	f->findable = true;
}

static struct feed *
feed_new(struct feed_set *fs, uint32_t h, const char *runtime_id,
    const char *worker_id, size_t wlen, const char *cursor, uint64_t seq,
    struct leg **legp)
{
	struct proxy *p = fs->p;
	struct feed *f = xcalloc(1, sizeof(*f));
	struct leg_params lp;

	f->fs = fs;
	f->hash = h;
	ids_request_id_generate(f->id);
	snprintf(f->runtime_id, sizeof(f->runtime_id), "%s", runtime_id);
	memcpy(f->worker_id, worker_id, wlen);
	f->worker_id[wlen] = '\0';
	f->worker_id_len = wlen;
	f->base = seq;
	f->ring_max = p->cfg->reg->wsproxy.feed_replay_bytes;
	if (legp != NULL && *legp != NULL) {
		/* A browser's own leg, at this very position: it becomes
		 * the shared one. */
		f->leg = *legp;
		*legp = NULL;
		leg_set_owner(f->leg, &feed_leg_ops, f, f->id, false);
		leg_pause(f->leg, false);
		feed_link(fs, f);
		wlog(WLOG_INFO, f->id, f->runtime_id, "shared upstream opened: "
		    "worker %s", f->worker_id);
		return f;
	}
	memset(&lp, 0, sizeof(lp));
	lp.p = p;
	lp.log_id = f->id;
	lp.runtime_id = runtime_id;
	lp.worker_id = worker_id;
	lp.worker_id_len = wlen;
	lp.cursor = cursor;
	lp.have_state = true;
	lp.ops = &feed_leg_ops;
	lp.owner = f;
	f->leg = leg_new(&lp);
	if (f->leg == NULL) {
		free(f);
		return NULL;
	}
	feed_link(fs, f);
	wlog(WLOG_INFO, f->id, f->runtime_id, "shared upstream opened: "
	    "worker %s", f->worker_id);
	leg_start(f->leg);
	return f;
}

bool
feed_covers(const struct feed *f, uint64_t seq)
{
	return seq >= f->base;
}

struct feed *
feed_get(struct feed_set *fs, const char *runtime_id, const char *worker_id,
    size_t worker_id_len, const char *cursor, uint64_t seq,
    struct leg **legp, bool may_create)
{
	uint32_t h = feed_hash(runtime_id, worker_id, worker_id_len);
	struct feed *f = feed_find(fs, h, runtime_id, worker_id,
	    worker_id_len);

	if (f == NULL)
		return may_create ? feed_new(fs, h, runtime_id, worker_id,
		    worker_id_len, cursor, seq, legp) : NULL;
	return feed_covers(f, seq) ? f : NULL;
}

void
feed_join(struct feed *f, struct session *s, uint64_t seq)
{
	size_t i;

	lws_sul_cancel(&f->sul_linger);
	lws_dll2_add_tail(session_feed_node(s), &f->subs);
	if (leg_announced(f->leg))
		session_feed_diag(s, FRAME_DIAG_UPSTREAM_RECONNECTING);
	for (i = 0; i < f->ring_count; i++) {
		struct sframe *fr = feed_ring_at(f, i);

		if (fr->seq <= seq)
			continue;
		if (!session_take_frame(s, fr)) {
			lws_dll2_remove(session_feed_node(s));
			break;
		}
	}
	if (!f->subs.count)
		feed_leave(f, NULL);
}

void
feed_leave(struct feed *f, struct session *s)
{
	if (s != NULL)
		lws_dll2_remove(session_feed_node(s));
	if (f->subs.count || f->sul_linger.list.owner != NULL)
		return;
	lws_sul_schedule(f->fs->p->ctx, 0, &f->sul_linger, feed_linger_cb,
	    (lws_usec_t)f->fs->p->cfg->reg->wsproxy.feed_linger_ms *
	    LWS_US_PER_MS);
}

void
feed_set_retire(struct feed_set *fs,
    bool (*keep)(const char *runtime_id, void *arg), void *arg)
{
	lws_start_foreach_dll(struct lws_dll2 *, d,
	    lws_dll2_get_head(&fs->all)) {
		struct feed *f = lws_container_of(d, struct feed, all);

		if (keep == NULL || !keep(f->runtime_id, arg))
			feed_unfind(f);
	} lws_end_foreach_dll(d);
}

void
feed_set_abandon(struct feed_set *fs)
{
	if (fs == NULL)
		return;
	lws_start_foreach_dll(struct lws_dll2 *, d,
	    lws_dll2_get_head(&fs->all)) {
		struct feed *f = lws_container_of(d, struct feed, all);

		lws_sul_cancel(&f->sul_linger);
		leg_abandon(f->leg);
	} lws_end_foreach_dll(d);
}

void
feed_set_free(struct feed_set *fs)
{
	if (fs == NULL)
		return;
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&fs->all)) {
		struct feed *f = lws_container_of(d, struct feed, all);

		lws_dll2_remove(d);
		while (f->subs.head != NULL)
			lws_dll2_remove(f->subs.head);
		feed_unfind(f);
		leg_free(f->leg);
		feed_ring_clear(f);
		free(f->ring);
		free(f);
	} lws_end_foreach_dll_safe(d, d1);
	free(fs);
}
