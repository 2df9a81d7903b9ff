/*
 * listenspec — listen-address parsing and stale-socket removal (see
 * listenspec.h).
 */
#include "listenspec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xalloc.h"

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) ==
    LISTENSPEC_UNIX_MAX, "LISTENSPEC_UNIX_MAX is sun_path's size");

static const char *const listenspec_reasons[] = {
	[LISTENSPEC_OK] = "ok",
	[LISTENSPEC_ERR_SYNTAX] = "must be HOST:PORT or unix:/path",
	[LISTENSPEC_ERR_PORT] = "port must be 1 to 65535",
	[LISTENSPEC_ERR_HOST] = "host must be a numeric address or localhost",
	/* The number is LISTENSPEC_UNIX_MAX, checked above. */
	[LISTENSPEC_ERR_UNIX_PATH] =
	    "unix: needs an absolute path shorter than 108 bytes",
};

const char *
listenspec_strerror(enum listenspec_err e)
{
	if ((unsigned)e >= sizeof(listenspec_reasons) /
	    sizeof(listenspec_reasons[0]))
		return "unknown error";
	return listenspec_reasons[e];
}

/* Numeric only: a name would need a DNS lookup at every start. */
static bool
listenspec_host_ok(const char *host)
{
	unsigned char addr[16];

	return strcmp(host, "localhost") == 0 ||
	    inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

enum listenspec_err
listenspec_parse(const char *s, struct listenspec *out)
{
	const char *colon;
	char *end, *host = NULL;
	long port;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/' || strlen(s + 5) >= LISTENSPEC_UNIX_MAX)
			return LISTENSPEC_ERR_UNIX_PATH;
		out->unix_path = xstrdup(s + 5);
		return LISTENSPEC_OK;
	}
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return LISTENSPEC_ERR_SYNTAX;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || colon[1] == '-' ||
	    colon[1] == '+' || colon[1] == ' ' || port < 1 || port > 65535)
		return LISTENSPEC_ERR_PORT;
	if (s[0] == '[' && colon[-1] == ']')
		host = xstrndup(s + 1, (size_t)(colon - s - 2));
	else
		host = xstrndup(s, (size_t)(colon - s));
	if (!listenspec_host_ok(host)) {
		free(host);
		return LISTENSPEC_ERR_HOST;
	}
	out->host = host;
	out->port = (int)port;
	return LISTENSPEC_OK;
}

void
listenspec_clear(struct listenspec *ls)
{
	if (ls == NULL)
		return;
	free(ls->host);
	free(ls->unix_path);
	ls->host = ls->unix_path = NULL;
	ls->port = 0;
}

bool
listenspec_unlink_stale(const char *path)
{
	struct stat st;

	/* lstat: a symlink named like the socket is left alone. */
	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    unlink(path) == 0;
}
