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
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
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

/* What the command line asks for. */
struct main_opts {
	const char *cfg, *sock;
	bool check, probe, json;
	int level;
	mode_t mode;
};

/* Parses argv into *o. Returns -1 to go on, else the exit status to
 * leave with (--help, --version, a usage error). */
static int
main_parse_opts(int argc, char **argv, struct main_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "probe", no_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'J' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int opt;

	memset(o, 0, sizeof(*o));
	o->level = WLOG_INFO;
	o->mode = 0660;
	while ((opt = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->cfg = optarg; break;
		case 's': o->sock = optarg; break;
		case 'C': o->check = true; break;
		case 'P': o->probe = true; break;
		case 'J': o->json = true; break;
		case 'm':
			o->mode = (mode_t)strtoul(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || o->mode > 0777) {
				fprintf(stderr, "wrg.fcgi: bad --socket-mode\n");
				return 2;
			}
			break;
		case 'l':
			o->level = wlog_level_parse(optarg);
			if (o->level < 0) {
				fprintf(stderr, "wrg.fcgi: bad --log-level\n");
				return 2;
			}
			break;
		case 'h': main_usage(stdout); return 0;
		case 'V': printf("wrg.fcgi %s\n", PACKAGE_VERSION); return 0;
		default: main_usage(stderr); return 2;
		}
	}
	if (optind != argc || (o->json && !o->probe) ||
	    (o->probe && o->check)) {
		main_usage(stderr);
		return 2;
	}
	return -1;
}

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
	struct main_opts o;
	struct registry *reg = NULL;
	char *errmsg = NULL, *unix_path = NULL;
	int fd = -1, status;

	wlog_init("wrg.fcgi", WLOG_INFO);
	status = main_parse_opts(argc, argv, &o);
	if (status >= 0)
		return status;
	wlog_init("wrg.fcgi", (enum wlog_level)o.level);

	reg = registry_load_file(registry_config_path(o.cfg), &errmsg);
	if (reg == NULL) {
		fprintf(stderr, "%s\n",
		    errmsg != NULL ? errmsg : "config: error");
		free(errmsg);
		return 1;
	}
	wlog_set_format(reg->log_json ? WLOG_JSON : WLOG_TEXT);
	if (o.check) {
		registry_print(reg, stdout);
		registry_free(reg);
		return 0;
	}

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
