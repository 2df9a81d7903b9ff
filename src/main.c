/*
 * wrg.fcgi — the FastCGI gateway's process: command line, registry load,
 * the listening socket and signals; the FastCGI connections, the worker
 * threads and the handler calls are fcgiloop.c's.
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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "fcgiloop.h"
#include "fcgim.h"
#include "listenspec.h"
#include "probe.h"
#include "registry.h"
#include "rtstate.h"
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

int
main(int argc, char **argv)
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
	const char *cfg = NULL, *sock = NULL;
	bool check = false, probe = false, json = false;
	int level = WLOG_INFO, opt, fd = -1, status = 1;
	mode_t mode = 0660;
	char *errmsg = NULL, *unix_path = NULL, *end;
	struct registry *reg = NULL;
	struct rtstate *rts = NULL;
	struct fcgiloop *loop = NULL;
	struct fcgim *metrics = NULL;
	struct fcgiloop_opts lo;
	enum fcgiloop_err le;
	sigset_t set;
	struct sigaction sa;

	wlog_init("wrg.fcgi", WLOG_INFO);
	while ((opt = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfg = optarg; break;
		case 's': sock = optarg; break;
		case 'C': check = true; break;
		case 'P': probe = true; break;
		case 'J': json = true; break;
		case 'm':
			mode = (mode_t)strtoul(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || mode > 0777) {
				fprintf(stderr, "wrg.fcgi: bad --socket-mode\n");
				return 2;
			}
			break;
		case 'l':
			level = wlog_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "wrg.fcgi: bad --log-level\n");
				return 2;
			}
			break;
		case 'h': main_usage(stdout); return 0;
		case 'V': printf("wrg.fcgi %s\n", PACKAGE_VERSION); return 0;
		default: main_usage(stderr); return 2;
		}
	}
	if (optind != argc || (json && !probe) || (probe && check)) {
		main_usage(stderr);
		return 2;
	}
	wlog_init("wrg.fcgi", (enum wlog_level)level);

	reg = registry_load_file(registry_config_path(cfg), &errmsg);
	if (reg == NULL) {
		fprintf(stderr, "%s\n", errmsg ? errmsg : "config: error");
		free(errmsg);
		return 1;
	}
	wlog_set_format(reg->log_json ? WLOG_JSON : WLOG_TEXT);
	if (check) {
		registry_print(reg, stdout);
		status = 0;
		goto out;
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		wlog(WLOG_ERR, NULL, NULL, "curl_global_init failed");
		goto out;
	}
	if (probe) {
		status = probe_run(reg, stdout, json);
		goto out;
	}
	if (sock != NULL) {
		fd = main_listen(sock, mode, &unix_path);
	} else {
		fd = main_inherited_fd();
		if (fd < 0)
			wlog(WLOG_ERR, NULL, NULL, "fd 0 is not a listening "
			    "socket: run under a web server, or use -s");
	}
	if (fd < 0)
		goto out;

	/* Before any thread: every thread inherits the mask, and the
	 * loop takes these signals through its signalfd. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* Asked for and unusable is a startup error, as a bad config is. */
	if (reg->fcgi_metrics_path != NULL) {
		metrics = fcgim_open(reg->fcgi_metrics_state, reg);
		if (metrics == NULL)
			goto out;
	}
	rts = rtstate_new(reg->runtime_count);
	memset(&lo, 0, sizeof(lo));
	lo.listen_fd = fd;
	lo.threads = reg->fcgi_threads ? reg->fcgi_threads : 1;
	lo.reg = reg;
	lo.rts = rts;
	lo.metrics = metrics;
	/* In-flight requests may take the longest request timeout plus a
	 * margin to finish after SIGTERM. */
	lo.stop_limit_ms = 2000;
	for (size_t i = 0; i < reg->runtime_count; i++)
		if (reg->runtimes[i].request_timeout_ms +
		    reg->runtimes[i].connect_timeout_ms + 2000 >
		    lo.stop_limit_ms)
			lo.stop_limit_ms = reg->runtimes[i].request_timeout_ms
			    + reg->runtimes[i].connect_timeout_ms + 2000;
	loop = fcgiloop_new(&lo);
	if (loop == NULL)
		goto out;
	wlog(WLOG_INFO, NULL, NULL, "serving %zu runtime(s) on %u thread(s)",
	    reg->runtime_count, fcgiloop_threads(loop));
	le = fcgiloop_run(loop);
	if (le == FCGILOOP_STUCK) {
		/* A worker stuck past every timeout: leave without
		 * freeing what it may still use. */
		wlog(WLOG_WARN, NULL, NULL, "a worker did not stop");
		if (unix_path != NULL)
			unlink(unix_path);
		_exit(0);
	}
	status = le == FCGILOOP_OK ? 0 : 1;
out:
	if (unix_path != NULL)
		unlink(unix_path);
	free(unix_path);
	if (fd > 2)
		close(fd);
	fcgiloop_free(loop);
	fcgim_free(metrics);
	rtstate_free(rts);
	registry_free(reg);
	if (!check)
		curl_global_cleanup();
	return status;
}
