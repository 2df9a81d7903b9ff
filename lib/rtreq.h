/*
 * rtreq — how wrg addresses a worker runtime (runtime-api.md), once for
 * wrg.fcgi's libcurl calls and wrg-wsproxy's lws legs:
 *
 *  - a worker's path: base_path + "/v1/workers/" + the browser's id as
 *    ONE escaped segment (curl_easy_escape: everything but unreserved
 *    characters is %-encoded, so "/", "%2F" or ".." can never name another
 *    remote path) + a suffix;
 *  - the host[:port] of a URL or Host header, an IPv6 address in
 *    brackets;
 *  - the Bearer credential, and the zeroing free it needs.
 */
#ifndef WRG_RTREQ_H
#define WRG_RTREQ_H

#include <stddef.h>

/* base_path (NULL: "") + "/v1/workers/" + escaped worker_id[0..len) +
 * suffix (NULL: ""), a new string owned by the caller. NULL for an id
 * that cannot be one segment even escaped ("", "." and "..", which an
 * HTTP server would fold; ids_worker_id_valid refuses them first) or
 * cannot be escaped (over INT_MAX bytes, libcurl out of memory). */
char *rtreq_worker_path(const char *base_path, const char *worker_id,
    size_t len, const char *suffix);

/* "host:port", "[v6]:port", or without ":port" when port <= 0; a new
 * string owned by the caller. host is a name or a bare address. */
char *rtreq_authority(const char *host, int port);

/* What rtreq_bearer writes. */
enum rtreq_bearer_form {
	RTREQ_BEARER_VALUE = 0,	/* "Bearer TOKEN" (lws adds the name) */
	RTREQ_BEARER_HEADER	/* "Authorization: Bearer TOKEN" (curl) */
};

/* The credential for token, a new string owned by the caller, who frees
 * it with rtreq_secret_free. */
char *rtreq_bearer(const char *token, enum rtreq_bearer_form form);

/* Overwrites s with zeros, then frees it (a token must not linger in
 * freed memory). NULL is a no-op. */
void rtreq_secret_free(char *s);

#endif
