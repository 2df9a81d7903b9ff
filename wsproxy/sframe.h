/*
 * sframe — one browser text frame, built once and shared (reference
 * counted) by every browser queue it goes to: a shared upstream parses
 * and rewrites each runtime frame once, whatever the number of browsers
 * watching.
 *
 * The payload sits after `headroom` writable bytes (LWS_PRE in the
 * proxy): lws_write() puts the WebSocket header there. Several browsers
 * writing the same frame is safe: writes happen one at a time on the one
 * service thread, and an unmasked server header for the same length and
 * opcode is the same bytes every time.
 *
 * Ownership: whoever holds a reference calls sframe_unref once; the last
 * one frees. Single-threaded (the lws service thread), so plain counts.
 */
#ifndef WRG_WSPROXY_SFRAME_H
#define WRG_WSPROXY_SFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct sframe {
	unsigned refs;
	size_t len;		/* payload bytes */
	size_t headroom;
	/* For events: the runtime cursor and its sequence number
	 * (frame_cursor_seq), so a queue can tell where a browser is. */
	bool has_seq;
	uint64_t seq;
	char cursor[FRAME_CURSOR_MAX + 1];	/* "" for diagnostics */
	unsigned char buf[];	/* headroom + payload + NUL */
};

/* A new frame holding a copy of data[0..len), one reference (the
 * caller's). */
struct sframe *sframe_new(const char *data, size_t len, size_t headroom);

/* Another reference to f (returned for convenience). */
struct sframe *sframe_ref(struct sframe *f);

/* Drops one reference; NULL is a no-op. */
void sframe_unref(struct sframe *f);

/* Most bytes sframe_ws_header writes. */
#define SFRAME_WS_HEADER_MAX 10

/* Writes the header of one unmasked, final server text frame of len
 * payload bytes (RFC 6455 5.2) to out; returns its length (2, 4 or 10).
 * What lws_write puts in the headroom, for when several frames go out
 * in one write (see session_write). */
size_t sframe_ws_header(unsigned char *out, size_t len);

/* The payload (headroom writable bytes before it). */
static inline unsigned char *
sframe_payload(struct sframe *f)
{
	return f->buf + f->headroom;
}

#endif
