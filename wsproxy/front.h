/*
 * front — wrg-wsproxy's front door. The listening vhost accepts every
 * connection as a raw socket (protocol "wrg-head"); front reads the HTTP
 * request head (head.h) under a size cap and a deadline, refuses what lws
 * 4.1 would misread, and hands the socket, with the bytes read so far, to
 * the non-listening browser vhost, where lws parses the request as usual.
 * The raw request-target travels along as a struct front_req, because
 * lws' own copy of the path is decoded lossily.
 *
 * Ownership:
 *  - struct front is owned by the proxy (front_new / front_free), which
 *    makes it the listening vhost's user (lws_vhost_user).
 *  - A raw connection's read buffer belongs to its pss, freed at
 *    LWS_CALLBACK_RAW_CLOSE.
 *  - A struct front_req is made at handoff. While lws services the adopted
 *    socket inside the handoff call, it is found in front's table under
 *    the new fd; after the call it moves to the adopted wsi's opaque user
 *    data, and front_req_release() frees it when that wsi is destroyed.
 *    If adoption fails it is freed at once.
 */
#ifndef WRG_WSPROXY_FRONT_H
#define WRG_WSPROXY_FRONT_H

#include <stddef.h>

#include <libwebsockets.h>

struct front;

struct front_req {
	char *target;		/* raw request-target, NUL-ended */
	size_t path_len;	/* bytes of target before '?' */
	char proto[6];		/* as struct head's proto */
};

/* A front that hands connections to browser_vh (a vhost made with
 * CONTEXT_PORT_NO_LISTEN_SERVER). */
struct front *front_new(void);
void front_set_browser_vhost(struct front *f, struct lws_vhost *browser_vh);
void front_free(struct front *f);

/* The protocol list for the listening vhost (raw sockets). */
extern const struct lws_protocols front_protocols[];

/* The request behind a browser wsi (NULL if none: a connection that did
 * not come through the front). Borrowed. */
const struct front_req *front_req_of(struct front *f, struct lws *wsi);

/* Frees the front_req of a browser wsi; call at its WSI_DESTROY. */
void front_req_release(struct lws *wsi);

/* Writes a complete HTTP/1.1 refusal with a JSON body and
 * "Connection: close" into buf. Returns its length, or 0 if cap is too
 * small. */
size_t front_refusal(char *buf, size_t cap, unsigned status,
    const char *body);

#endif
