/*
 * wrg.fcgi — the FastCGI gateway's process: command line, registry load,
 * the listening socket, the FastCGI threads and their thin accept loop.
 * Each accepted request is copied into a struct handler_req and answered
 * by handler_handle (handler.c); this file only moves bytes between
 * libfcgi and that handler.
 *
 *   wrg.fcgi [-c FILE] [-s unix:/path | -s HOST:PORT] [--socket-mode OCT]
 *            [--check-config] [--log-level L]
 *
 * Without -s, the listening socket is fd 0 (lighttpd bin-path,
 * spawn-fcgi, systemd StandardInput=socket) or, under systemd socket
 * activation with LISTEN_FDS=1, fd 3.
 *
 * Shutdown: SIGTERM/SIGINT are taken by the main thread (sigwait); it marks
 * libfcgi's shutdown and interrupts each worker's accept with SIGUSR1.
 * Requests in flight finish first (bounded by the runtimes' timeouts).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "handler.h"
#include "probe.h"
#include "registry.h"
#include "rtstate.h"
#include "wlog.h"
#include "xalloc.h"

struct main_worker {
	pthread_t tid;
	int listen_fd;
	const struct registry *reg;
	struct rtstate *rts;
	atomic_bool done;
};

static atomic_bool main_stopping;

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

/* Empty handler: its only job is to make accept() return EINTR. */
static void
main_sigusr1(int sig)
{
	(void)sig;
}

static ssize_t
main_read_body(void *arg, char *buf, size_t cap)
{
	FCGX_Request *r = arg;
	int want = cap > 65536 ? 65536 : (int)cap;
	int n = FCGX_GetStr(buf, want, r->in);

	/* A short count is the end of the body, or an error on the
	 * connection: the latter must not pass for a shorter body. */
	if (n < 0 || (n < want && FCGX_GetError(r->in) != 0))
		return -1;
	return n;
}

/* Writes len bytes to a FastCGI stream. FCGX_PutStr takes an int count:
 * a body is written in chunks well below INT_MAX, so no length is ever
 * truncated by a cast. Stops at the first error (the web server went
 * away; nothing to tell it). */
static void
main_put(FCGX_Stream *s, const char *buf, size_t len)
{
	while (len > 0) {
		int n = (int)(len > 65536 ? 65536 : len);

		if (FCGX_PutStr(buf, n, s) != n)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* One FastCGI request: environment in, handler, response out. */
static void
main_serve(struct handler_ctx *ctx, FCGX_Request *r)
{
	struct handler_req req;
	struct resp out;
	char *uri = NULL, *head = NULL;

	memset(&req, 0, sizeof(req));
	memset(&out, 0, sizeof(out));
	req.method = FCGX_GetParam("REQUEST_METHOD", r->envp);
	req.uri = FCGX_GetParam("REQUEST_URI", r->envp);
	if (req.uri == NULL) {
		/* Not seen with lighttpd, nginx or Apache; the documented
		 * fallback of browser-api.md. */
		const char *doc = FCGX_GetParam("DOCUMENT_URI", r->envp);
		const char *qs = FCGX_GetParam("QUERY_STRING", r->envp);

		if (doc != NULL) {
			uri = xasprintf("%s%s%s", doc, qs && *qs ? "?" : "",
			    qs && *qs ? qs : "");
			req.uri = uri;
		}
	}
	req.content_type = FCGX_GetParam("CONTENT_TYPE", r->envp);
	req.content_length = FCGX_GetParam("CONTENT_LENGTH", r->envp);
	req.request_id = FCGX_GetParam("HTTP_X_REQUEST_ID", r->envp);
	req.read_body = main_read_body;
	req.read_arg = r;

	handler_handle(ctx, &req, &out);

	head = resp_headers(&out);
	main_put(r->out, head, strlen(head));
	if (!out.head)
		main_put(r->out, out.body, out.body_len);
	free(head);
	free(uri);
	resp_clear(&out);
}

static void *
main_worker_run(void *arg)
{
	struct main_worker *w = arg;
	struct handler_ctx ctx;
	FCGX_Request r;
	sigset_t set;

	/* This thread takes SIGUSR1 (to leave accept), only while it waits
	 * in accept: a request in flight is never interrupted (libfcgi
	 * does not retry EINTR: a body read would end short, a write
	 * fail). A SIGUSR1 sent while serving stays pending until the
	 * next accept, which it then ends. Never TERM/INT. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);

	ctx.reg = w->reg;
	ctx.rts = w->rts;
	ctx.up = upstream_new(w->reg);
	if (FCGX_InitRequest(&r, w->listen_fd, 0) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "FCGX_InitRequest failed");
		goto out;
	}
	while (!atomic_load(&main_stopping)) {
		int rc;

		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		rc = FCGX_Accept_r(&r);
		pthread_sigmask(SIG_BLOCK, &set, NULL);

		if (rc < 0) {
			if (atomic_load(&main_stopping))
				break;
			if (rc == -EINTR)
				continue;
			wlog(WLOG_ERR, NULL, NULL, "FCGX_Accept_r: %s",
			    strerror(-rc));
			break;
		}
		main_serve(&ctx, &r);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 0);
out:
	upstream_free(ctx.up);
	atomic_store(&w->done, true);
	return NULL;
}

/* Creates, binds and listens on "unix:/path" or "HOST:PORT". Returns the
 * fd or -1 (logged). *unix_path is set to the path to unlink at exit. */
static int
main_listen(const char *spec, mode_t mode, char **unix_path)
{
	int fd = -1, one = 1;

	*unix_path = NULL;
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sa;
		const char *path = spec + 5;
		struct stat st;

		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
			wlog(WLOG_ERR, NULL, NULL, "-s %s: bad socket path",
			    spec);
			return -1;
		}
		memcpy(sa.sun_path, path, strlen(path) + 1);
		/* Replace a stale socket file, never any other file. */
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
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
		char host[256];
		const char *colon = strrchr(spec, ':');
		size_t hlen;
		int rc;

		if (colon == NULL || colon[1] == '\0') {
			wlog(WLOG_ERR, NULL, NULL,
			    "-s %s: want unix:/path or HOST:PORT", spec);
			return -1;
		}
		hlen = (size_t)(colon - spec);
		if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
			spec++;
			hlen -= 2;
		}
		if (hlen == 0 || hlen >= sizeof(host)) {
			wlog(WLOG_ERR, NULL, NULL, "-s: bad host");
			return -1;
		}
		memcpy(host, spec, hlen);
		host[hlen] = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(host, colon + 1, &hints, &ai);
		if (rc != 0) {
			wlog(WLOG_ERR, NULL, NULL, "-s %s: %s", host,
			    gai_strerror(rc));
			return -1;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof(one));
		if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "-s %s:%s: %s", host,
			    colon + 1, strerror(errno));
			freeaddrinfo(ai);
			goto fail;
		}
		freeaddrinfo(ai);
	}
	if (listen(fd, 128) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "listen: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	if (*unix_path != NULL) {
		unlink(*unix_path);
		free(*unix_path);
		*unix_path = NULL;
	}
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
	int level = WLOG_INFO, opt, fd = -1, status = 1, sig;
	mode_t mode = 0660;
	char *errmsg = NULL, *unix_path = NULL, *end;
	struct registry *reg = NULL;
	struct rtstate *rts = NULL;
	struct main_worker *workers = NULL;
	unsigned nthreads = 0, started = 0;
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
	if (FCGX_Init() != 0) {
		wlog(WLOG_ERR, NULL, NULL, "FCGX_Init failed");
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

	/* After FCGX_Init: our signal policy replaces libfcgi's. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = main_sigusr1;	/* no SA_RESTART: accept gets EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	rts = rtstate_new(reg->runtime_count);
	nthreads = reg->fcgi_threads ? reg->fcgi_threads : 1;
	workers = xcalloc(nthreads, sizeof(*workers));
	for (unsigned i = 0; i < nthreads; i++) {
		workers[i].listen_fd = fd;
		workers[i].reg = reg;
		workers[i].rts = rts;
		atomic_init(&workers[i].done, false);
		if (pthread_create(&workers[i].tid, NULL, main_worker_run,
		    &workers[i]) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "pthread_create failed");
			break;
		}
		started++;
	}
	wlog(WLOG_INFO, NULL, NULL, "serving %zu runtime(s) on %u thread(s)",
	    reg->runtime_count, started);

	if (started == 0)
		goto out;
	sigdelset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* The config is read once at start; reload is a
			 * restart by the web server or systemd. */
			wlog(WLOG_INFO, NULL, NULL, "SIGHUP ignored: restart "
			    "to reload the config");
			continue;
		}
		break;
	}
	wlog(WLOG_INFO, NULL, NULL, "shutting down");
	atomic_store(&main_stopping, true);
	FCGX_ShutdownPending();
	{
		/* Interrupt accept() until every worker has left; bounded
		 * by the longest request timeout plus a margin. */
		long limit_ms = 2000;
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		for (size_t i = 0; i < reg->runtime_count; i++)
			if (reg->runtimes[i].request_timeout_ms +
			    reg->runtimes[i].connect_timeout_ms + 2000 >
			    limit_ms)
				limit_ms = reg->runtimes[i].request_timeout_ms
				    + reg->runtimes[i].connect_timeout_ms +
				    2000;
		for (long waited = 0; waited < limit_ms; waited += 20) {
			unsigned left = 0;

			for (unsigned i = 0; i < started; i++)
				if (!atomic_load(&workers[i].done)) {
					pthread_kill(workers[i].tid, SIGUSR1);
					left++;
				}
			if (left == 0)
				break;
			nanosleep(&ts, NULL);
		}
	}
	status = 0;
	for (unsigned i = 0; i < started; i++) {
		if (!atomic_load(&workers[i].done)) {
			/* A worker stuck past every timeout: leave without
			 * freeing what it may still use. */
			wlog(WLOG_WARN, NULL, NULL, "a worker did not stop");
			if (unix_path != NULL)
				unlink(unix_path);
			_exit(0);
		}
		pthread_join(workers[i].tid, NULL);
	}
out:
	if (unix_path != NULL)
		unlink(unix_path);
	free(unix_path);
	if (fd > 2)
		close(fd);
	free(workers);
	rtstate_free(rts);
	registry_free(reg);
	if (!check)
		curl_global_cleanup();
	return status;
}
