/*
 * front — what wrg-wsproxy keeps of a browser's raw request head. The
 * header gate (lib/hdrgate.h) owns the listening socket and passes lws
 * only heads its 4.1 lexer reads correctly; for each head it passes,
 * front_req_new makes a struct front_req from the raw bytes, and the
 * adopted browser wsi carries it as its opaque user data. lws' own copy
 * of the path is decoded lossily ('+' as a space, ';' and '&' as
 * separators, dot-segments folded), so the upgrade routes on this raw
 * target instead — exactly as wrg.fcgi routes REQUEST_URI.
 *
 * Ownership: a struct front_req belongs to the browser wsi it is
 * attached to; front_req_release() frees it at that wsi's
 * LWS_CALLBACK_WSI_DESTROY (the gate frees it if the adoption fails).
 */
#ifndef WRG_WSPROXY_FRONT_H
#define WRG_WSPROXY_FRONT_H

#include <stddef.h>

#include <libwebsockets.h>

struct front_req {
	char *target;		/* raw request-target, NUL-ended */
	size_t path_len;	/* bytes of target before '?' */
	char proto[6];		/* as struct head's proto (head.h) */
};

/* An hdrgate_pass_fn: the front_req of head[0..len), or NULL when the
 * head has no origin-form target (the upgrade is then refused 404).
 * arg is unused. */
void *front_req_new(void *arg, const char *head, size_t len);

/* Frees a front_req (void * for hdrgate); NULL is a no-op. */
void front_req_free(void *req);

/* The request behind a browser wsi, or NULL. Borrowed. */
const struct front_req *front_req_of(struct lws *wsi);

/* Frees the front_req of a browser wsi; call at its WSI_DESTROY. */
void front_req_release(struct lws *wsi);

/* Writes a complete HTTP/1.1 refusal with a JSON body, an X-Request-Id
 * header and "Connection: close" into buf. Returns its length, or 0 if
 * cap is too small. */
size_t front_refusal(char *buf, size_t cap, unsigned status,
    const char *request_id, const char *body);

#endif
