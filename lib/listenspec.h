/*
 * listenspec — the one listen-address syntax of wrg: "unix:/abs/path" or
 * "HOST:PORT", HOST a numeric IPv4 address, an IPv6 address (in
 * brackets, "[::1]:8792") or "localhost". Used by wrg.fcgi's -s and by
 * the registry's wsproxy.listen and wsproxy.metrics_listen, so all three
 * accept and refuse the same strings; plus the stale-socket removal every
 * Unix listener does before bind().
 */
#ifndef WRG_LISTENSPEC_H
#define WRG_LISTENSPEC_H

#include <stdbool.h>

/* sizeof(sockaddr_un.sun_path) on Linux: a path needs one byte less. */
#define LISTENSPEC_UNIX_MAX 108

enum listenspec_err {
	LISTENSPEC_OK = 0,
	LISTENSPEC_ERR_SYNTAX,		/* neither form */
	LISTENSPEC_ERR_PORT,		/* not 1..65535 */
	LISTENSPEC_ERR_HOST,		/* not numeric or localhost */
	LISTENSPEC_ERR_UNIX_PATH	/* relative or too long */
};

struct listenspec {
	char *host;		/* TCP: the host, brackets removed; else NULL */
	int port;		/* TCP: 1..65535; else 0 */
	char *unix_path;	/* unix: the path; else NULL */
};

/* Parses s into *out (zeroed first; its strings owned by *out, freed by
 * listenspec_clear). On error *out holds nothing. */
enum listenspec_err listenspec_parse(const char *s, struct listenspec *out);

/* Frees the strings of ls; ls itself is the caller's. NULL is a no-op. */
void listenspec_clear(struct listenspec *ls);

/* The reason for e, worded for "file: key: reason" and "-s X: reason".
 * Static storage. */
const char *listenspec_strerror(enum listenspec_err e);

/* Removes path if it is a socket (left by an earlier run), never any
 * other kind of file. Returns true if a socket was removed. */
bool listenspec_unlink_stale(const char *path);

#endif
