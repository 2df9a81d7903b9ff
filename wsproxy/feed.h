/*
 * feed — the shared upstream of one watched (runtime, worker): one leg
 * to the runtime, whose events are parsed and rewritten once and fanned
 * out, as shared frames, to every session watching the worker live.
 *
 * Where a session stands is a cursor position (frame_cursor_seq); a feed
 * has every event of its worker after its `base` position: it resumes
 * from there across drops, and keeps the most recent frames in a bounded
 * replay ring (base moves up as the ring drops its oldest). So a session
 * at position P may join when P >= base: it is sent the ring's frames
 * after P, then everything live after that; any frame at or before P is
 * skipped. Exactly once, in order, by cursor arithmetic alone.
 *
 * Ownership:
 *  - The feed set owns every feed. A feed lives while sessions watch it,
 *    and a linger (wsproxy.feed_linger_ms) after the last one left;
 *    then, or when its leg finished, it is freed.
 *  - A feed owns its leg and one reference on each ring frame.
 *  - Sessions are borrowed: a session on a feed is in its subscriber
 *    list; feed_leave (or the feed, when it ends or breaks) takes it
 *    out, always before the session is freed.
 *  - On a config reload every feed stops taking new sessions (the next
 *    ones get a feed that uses the new URL and token at once); it
 *    carries on for the ones it has.
 */
#ifndef WRG_WSPROXY_FEED_H
#define WRG_WSPROXY_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct leg;
struct proxy;
struct session;
struct feed;
struct feed_set;

struct feed_set *feed_set_new(struct proxy *p);

/* At exit, before lws_context_destroy: every feed lets go of its
 * connection without telling anyone. */
void feed_set_abandon(struct feed_set *fs);

/* Frees the set and every feed (after feed_set_abandon). */
void feed_set_free(struct feed_set *fs);

/* A reload: feeds for which keep(runtime_id, arg) is false take no new
 * sessions (new browsers open new feeds with the new settings; the old
 * ones serve their browsers until those leave, and switch at their next
 * reconnect). keep NULL: every feed. */
void feed_set_retire(struct feed_set *fs,
    bool (*keep)(const char *runtime_id, void *arg), void *arg);

/* Number of feeds with a connection wanted (for tests and logs). */
size_t feed_set_count(const struct feed_set *fs);

/* The feed that a session of (runtime_id, worker_id) at position seq
 * (with its cursor) can join, made if there is none: then it adopts
 * *legp, the session's own leg standing at that position (and sets
 * *legp to NULL), instead of opening a connection of its own. NULL:
 * there is one but it does not cover seq (the session catches up on its
 * own first), there is none and !may_create, or the runtime is not
 * configured. */
struct feed *feed_get(struct feed_set *fs, const char *runtime_id,
    const char *worker_id, size_t worker_id_len, const char *cursor,
    uint64_t seq, struct leg **legp, bool may_create);

/* Whether f has every event after seq. */
bool feed_covers(const struct feed *f, uint64_t seq);

/* Adds s (at position seq) to f: queues the ring's frames after seq
 * (session_take_frame), then s gets the live frames. */
void feed_join(struct feed *f, struct session *s, uint64_t seq);

/* Takes s off f (its frames already queued stay queued). */
void feed_leave(struct feed *f, struct session *s);

#endif
