/*
 * ids — the rules for every identifier that crosses wrg: registry runtime
 * ids, worker ids from the browser, request ids. Shared by wrg.fcgi and
 * wrg-wsproxy so both accept and refuse exactly the same bytes.
 */
#ifndef WRG_IDS_H
#define WRG_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define IDS_RUNTIME_ID_MAX 64
#define IDS_WORKER_ID_MAX 256
#define IDS_REQUEST_ID_MAX 64

/* Whether s is 1..max bytes, each one of set (s NULL: false). The one
 * character-class check behind the ids here, runtime error codes
 * (src/apierr_upstream.c) and event cursors (wsproxy/frame.c). */
bool ids_chars_valid(const char *s, size_t max, const char *set);

/* [A-Za-z0-9._-]{1,64}, except "." and ".." (dot-segments in a path). */
bool ids_runtime_id_valid(const char *s);

/* A decoded worker id: 1..256 bytes, valid UTF-8, no '/', no NUL, no
 * control characters (C0, DEL), and not "." or ".." (which HTTP clients
 * would resolve as dot-segments and so change the remote path). */
bool ids_worker_id_valid(const char *s, size_t len);

/* Length of the UTF-8 sequence at p (at most n bytes, n >= 1), or 0 if
 * invalid: overlong forms, surrogates, code points past U+10FFFF and C1
 * controls are refused. */
size_t ids_utf8_len(const unsigned char *p, size_t n);

/* A request id accepted from a browser: [A-Za-z0-9._-]{1,64}. */
bool ids_request_id_valid(const char *s);

/* Writes a fresh random request id (22 URL-safe characters, NUL-ended)
 * into out, which must hold IDS_REQUEST_ID_MAX + 1 bytes. */
void ids_request_id_generate(char *out);

#endif
