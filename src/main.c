/*
 * wrg.fcgi — the FastCGI gateway's process: command line, registry load,
 * the listening socket; signals, the thread pool and the shutdown are
 * service.c's, the FastCGI connections and the handler calls
 * fcgiloop.c's.
 *
 *   wrg.fcgi [-c FILE] [-s unix:/path | -s HOST:PORT] [--socket-mode OCT]
 *            [--check-config] [--log-level L]
 *
 * Without -s, the listening socket is fd 0 (lighttpd bin-path,
 * spawn-fcgi, systemd StandardInput=socket) or, under systemd socket
 * activation with LISTEN_FDS=1, fd 3.
 *
 * Shutdown: SIGTERM/SIGINT reach the event loop through a signalfd; it
 * stops accepting and lets requests in flight finish first (bounded by
 * the runtimes' timeouts).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "listenspec.h"
#include "probe.h"
#include "registry.h"
#include "service.h"
#include "wlog.h"
#include "xalloc.h"

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: wrg.fcgi [-c FILE] [-s unix:/path | -s HOST:PORT]\n"
	    "                [--socket-mode OCTAL] [--check-config]\n"
	    "                [--log-level error|warn|info|debug]\n"
	    "       wrg.fcgi --probe [-c FILE] [--json]\n"
	    "Without -s, serves FastCGI on the socket passed as fd 0.\n"
	    "--probe calls every runtime once and reports; exit 1 if any "
	    "is down.\n");
}

/* Creates, binds and listens on "unix:/path" or "HOST:PORT"
 * (lib/listenspec.h). Returns the fd or -1 (logged). *unix_path is set
 * to the path to unlink at exit. */
static int
main_listen(const char *spec, mode_t mode, char **unix_path)
{
	struct listenspec ls;
	enum listenspec_err e;
	int fd = -1, one = 1;

	*unix_path = NULL;
	e = listenspec_parse(spec, &ls);
	if (e != LISTENSPEC_OK) {
		wlog(WLOG_ERR, NULL, NULL, "-s %s: %s", spec,
		    listenspec_strerror(e));
		return -1;
	}
	if (ls.unix_path != NULL) {
		struct sockaddr_un sa;
		const char *path = ls.unix_path;

		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		memcpy(sa.sun_path, path, strlen(path) + 1);
		listenspec_unlink_stale(path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
		    sizeof(sa)) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "-s %s: %s", spec,
			    strerror(errno));
			goto fail;
		}
		/* bind() applied the umask; set the mode asked for. */
		if (chmod(path, mode) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "chmod %s: %s", path,
			    strerror(errno));
			unlink(path);
			goto fail;
		}
		*unix_path = xstrdup(path);
	} else {
		struct addrinfo hints, *ai = NULL;
		char port[8];
		int rc;

		snprintf(port, sizeof(port), "%d", ls.port);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(ls.host, port, &hints, &ai);
		if (rc != 0) {
			wlog(WLOG_ERR, NULL, NULL, "-s %s: %s", spec,
			    gai_strerror(rc));
			goto fail;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof(one));
		if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "-s %s: %s", spec,
			    strerror(errno));
			freeaddrinfo(ai);
			goto fail;
		}
		freeaddrinfo(ai);
	}
	if (listen(fd, 128) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "listen: %s", strerror(errno));
		goto fail;
	}
	listenspec_clear(&ls);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	if (*unix_path != NULL) {
		unlink(*unix_path);
		free(*unix_path);
		*unix_path = NULL;
	}
	listenspec_clear(&ls);
	return -1;
}

/* The inherited listening socket: fd 3 under systemd socket activation,
 * else fd 0. -1 if it is not a socket. */
static int
main_inherited_fd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int fd = 0, type = 0;
	socklen_t len = sizeof(type);

	if (pid != NULL && fds != NULL && atol(pid) == (long)getpid() &&
	    strcmp(fds, "1") == 0)
		fd = 3;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_STREAM)
		return -1;
	return fd;
}

/* What wrg.fcgi's own options ask for (lib/cli.h parses the shared
 * ones). */
struct main_opts {
	const char *sock;
	bool probe, json;
	mode_t mode;
};

/* One of wrg.fcgi's own options (cli_spec.own_opt). */
static int
main_own_opt(void *arg, int opt, const char *val)
{
	struct main_opts *o = arg;
	char *end;

	switch (opt) {
	case 's': o->sock = val; break;
	case 'P': o->probe = true; break;
	case 'J': o->json = true; break;
	case 'm':
		o->mode = (mode_t)strtoul(val, &end, 8);
		if (*val == '\0' || *end != '\0' || o->mode > 0777) {
			fprintf(stderr, "wrg.fcgi: bad --socket-mode\n");
			return 2;
		}
		break;
	default: main_usage(stderr); return 2;
	}
	return CLI_GO_ON;
}

/* wrg.fcgi's wording of an unknown --log-level (cli_spec.bad_level),
 * kept as released. */
static void
main_bad_level(const char *word)
{
	(void)word;
	fprintf(stderr, "wrg.fcgi: bad --log-level\n");
}

static const struct option main_longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "socket-mode", required_argument, NULL, 'm' },
	{ "probe", no_argument, NULL, 'P' },
	{ "json", no_argument, NULL, 'J' },
	{ NULL, 0, NULL, 0 }
};

/* The listening socket: -s's, else the inherited one. Returns the fd or
 * -1 (logged); *unix_path as main_listen sets it. */
static int
main_socket(const struct main_opts *o, char **unix_path)
{
	int fd;

	*unix_path = NULL;
	if (o->sock != NULL)
		return main_listen(o->sock, o->mode, unix_path);
	fd = main_inherited_fd();
	if (fd < 0)
		wlog(WLOG_ERR, NULL, NULL, "fd 0 is not a listening "
		    "socket: run under a web server, or use -s");
	return fd;
}

int
main(int argc, char **argv)
{
	struct main_opts o = { .mode = 0660 };
	const struct cli_spec spec = {
		.prog = "wrg.fcgi", .shortopts = "c:s:h", .own = main_longopts,
		.own_opt = main_own_opt, .arg = &o, .usage = main_usage,
		.bad_level = main_bad_level, .load_err_prefix = "",
	};
	struct cli c;
	struct registry *reg = NULL;
	char *unix_path = NULL;
	int fd = -1, status;

	status = cli_parse(&spec, argc, argv, &c);
	if (status != CLI_GO_ON)
		return status;
	if ((o.json && !o.probe) || (o.probe && c.check)) {
		main_usage(stderr);
		return 2;
	}
	status = cli_load(&spec, &c, &reg);
	if (status != CLI_GO_ON)
		return status;

	status = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		wlog(WLOG_ERR, NULL, NULL, "curl_global_init failed");
	else if (o.probe)
		status = probe_run(reg, stdout, o.json);
	else if ((fd = main_socket(&o, &unix_path)) >= 0)
		status = service_run(reg, fd);

	if (unix_path != NULL)
		unlink(unix_path);
	free(unix_path);
	if (fd > 2)
		close(fd);
	registry_free(reg);
	curl_global_cleanup();
	return status;
}
