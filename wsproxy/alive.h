/*
 * alive — a browser that reads counts as answering lws' pings. Behind a
 * web server a browser's pong waits behind every frame the server and the
 * kernel hold for it; one that slowly reads a deep backlog would be hung
 * up as dead while it reads. Once a second one timer looks at the browsers
 * with bytes not consumed and confirms (lws_validity_confirmed) those
 * whose backlog moved and whose pong is due. docs/wsproxy.md, "Pings".
 */
#ifndef WRG_WSPROXY_ALIVE_H
#define WRG_WSPROXY_ALIVE_H

#include <stddef.h>

struct lws;
struct session;

/* Bytes written to the browser that it has not consumed (SIOCOUTQ: for
 * TCP what is unacknowledged, for a Unix socket what is unread); 0 when
 * unknown. */
int alive_unsent(struct lws *wsi);

/* len bytes were written to s's browser: it is looked at until it has
 * consumed them (when pings can drop it, and until its close frame is
 * asked for). */
void alive_wrote(struct session *s, size_t len);

#endif
