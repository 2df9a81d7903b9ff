/*
 * session — one browser's event stream: its send queue, its position
 * (the cursor of the last event queued), and where its events come from:
 *
 *   own leg   at the start (the runtime sends the snapshot, then the
 *             backlog after the browser's cursor), and when catching up;
 *   feed      once its position is one the worker's shared feed covers:
 *             the own leg is dropped and the feed's frames follow.
 *
 * A session whose queue is full while live leaves the feed with what it
 * has queued; when the browser has read most of it, the session rejoins
 * from the feed's ring, or catches up on an own leg from its position
 * (reading at the browser's pace: the leg is paused while the queue is
 * over half full). It is cut with backend.slow_consumer only when it
 * cannot catch up at all: the runtime no longer has its position.
 *
 * Ownership: a session is owned by its browser connection: created at
 * LWS_CALLBACK_ESTABLISHED, freed at LWS_CALLBACK_CLOSED (or at exit).
 * It owns its queue and its own leg; it holds a place in at most one
 * feed, which it leaves before it is freed.
 */
#ifndef WRG_WSPROXY_SESSION_H
#define WRG_WSPROXY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "frame.h"
#include "sframe.h"

struct proxy;
struct session;

/* The browser protocols of the server vhost ("wrg-events"). */
extern const struct lws_protocols session_protocols[];

/* From the feed: a live frame (the session takes its own reference if
 * it queues it; frames at or before its position are skipped). false:
 * the session left the feed (queue full). */
bool session_take_frame(struct session *s, struct sframe *fr);

/* From the feed: a fresh snapshot after backend.resynced; the position
 * becomes the snapshot's. */
void session_take_snapshot(struct session *s, struct sframe *fr);

/* From the feed: a diagnostic for the browser (upstream_reconnecting,
 * resynced). */
void session_feed_diag(struct session *s, enum frame_diag d);

/* From the feed, which has already taken s off its list: the stream is
 * over (d, code), or (broken) the feed cannot serve it any more and s
 * goes on with an own leg, never sharing again. */
void session_feed_finish(struct session *s, enum frame_diag d, int code);
void session_feed_broken(struct session *s);

/* The feed's list node (feed.c links sessions through it). */
lws_dll2_t *session_feed_node(struct session *s);
struct session *session_of_feed_node(lws_dll2_t *d);

/* Payload bytes queued for the browser (metrics). */
size_t session_queued_bytes(const struct session *s);

/* Shutdown: backend.shutting_down, then close. */
void session_shutdown(struct session *s);

/* Writes the frames queued during this turn of the loop (once per turn,
 * from proxy.c, outside lws callbacks; browser.c). */
void session_flush(struct proxy *p);

/* At exit (after the loop): drop what lws no longer tells us about. */
void session_abandon(struct session *s);
void session_free(struct session *s);
struct session *session_of_list_node(lws_dll2_t *d);

#endif
