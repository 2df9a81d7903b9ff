/*
 * xalloc — the one OOM policy of wrg: both daemons abort on allocation
 * failure. A gateway that cannot allocate a few bytes cannot answer anyone
 * correctly, and the web server / systemd restarts it. Every caller can
 * therefore treat these as infallible; there is no other malloc wrapper.
 */
#ifndef WRG_XALLOC_H
#define WRG_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* xstrdup(NULL) returns NULL, so optional strings copy in one line. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh allocation owned by the caller. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
