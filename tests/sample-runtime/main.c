/*
 * wrg-sample-runtime — a worker runtime following
 * ../shared/contracts/runtime-api.md, the test peer of wrg's integration
 * tests and the demo backend. This file only reads the command line
 * (docs/sample-runtime.md), opens the store, creates the one lws context
 * and runs the service loop until SIGTERM/SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "api.h"
#include "hdrgate.h"
#include "server.h"
#include "store.h"
#include "wlog.h"
#include "wlog_lws.h"
#include "xalloc.h"

#define PROG "wrg-sample-runtime"

static volatile sig_atomic_t sr_stop_flag;
static struct lws_context *sr_context;

static void
sr_on_signal(int sig)
{
	(void)sig;
	sr_stop_flag = 1;
	if (sr_context != NULL)
		lws_cancel_service(sr_context);
}

static void
sr_usage(void)
{
	fprintf(stderr, "usage: " PROG " --listen 127.0.0.1:PORT|unix:PATH "
	    "[--token T|--token-file F] [--runtime-id ID]\n"
	    "    [--display-name N] [--state-dir DIR] [--retention N] "
	    "[--max-transcript N]\n"
	    "    [--tick-ms N] [--ready-file F] [--log-level L] "
	    "[--fault-delay-ms N]\n"
	    "    [--fault-500] [--fault-invalid-json] [--fault-oversize N] "
	    "[--fault-refuse-token]\n");
}

/* A decimal number in [min, max]; exits on anything else. */
static unsigned long
sr_num_arg(const char *opt, const char *s, unsigned long min,
    unsigned long max)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < min || v > max) {
		fprintf(stderr, PROG ": %s: bad number '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static char *
sr_read_token_file(const char *path)
{
	char buf[8192];		/* wrg.conf(5) tokens: up to 4096 bytes */
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n == sizeof(buf) - 1) {
		fprintf(stderr, PROG ": %s: token too long\n", path);
		exit(2);
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, PROG ": %s: empty token\n", path);
		exit(2);
	}
	return xstrdup(buf);
}

static int
sr_write_ready_file(const char *path, int port)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int rc = -1;

	if (f == NULL)
		goto out;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int
main(int argc, char **argv)
{
	enum {
		O_LISTEN = 256, O_TOKEN, O_TOKEN_FILE, O_RUNTIME_ID,
		O_DISPLAY_NAME, O_STATE_DIR, O_RETENTION, O_MAX_TRANSCRIPT,
		O_TICK_MS, O_READY_FILE, O_LOG_LEVEL, O_F_DELAY, O_F_500,
		O_F_INVALID_JSON, O_F_OVERSIZE, O_F_REFUSE
	};
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "token-file", required_argument, NULL, O_TOKEN_FILE },
		{ "runtime-id", required_argument, NULL, O_RUNTIME_ID },
		{ "display-name", required_argument, NULL, O_DISPLAY_NAME },
		{ "state-dir", required_argument, NULL, O_STATE_DIR },
		{ "retention", required_argument, NULL, O_RETENTION },
		{ "max-transcript", required_argument, NULL,
		    O_MAX_TRANSCRIPT },
		{ "tick-ms", required_argument, NULL, O_TICK_MS },
		{ "ready-file", required_argument, NULL, O_READY_FILE },
		{ "log-level", required_argument, NULL, O_LOG_LEVEL },
		{ "fault-delay-ms", required_argument, NULL, O_F_DELAY },
		{ "fault-500", no_argument, NULL, O_F_500 },
		{ "fault-invalid-json", no_argument, NULL, O_F_INVALID_JSON },
		{ "fault-oversize", required_argument, NULL, O_F_OVERSIZE },
		{ "fault-refuse-token", no_argument, NULL, O_F_REFUSE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct server srv;
	struct lws_context_creation_info info;
	struct lws_vhost *vh, *http_vh;
	struct hdrgate *gate = NULL;
	struct sigaction sa;
	const char *listen_arg = NULL, *ready_file = NULL;
	char *token = NULL, *host = NULL, *unix_path = NULL;
	char err[512];
	unsigned long retention = 1024, port = 0;
	int level = WLOG_WARN, c, rc = 1;

	memset(&srv, 0, sizeof(srv));
	srv.api.runtime_id = "sample";
	srv.api.max_transcript = 256;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: listen_arg = optarg; break;
		case O_TOKEN:
			free(token);
			token = xstrdup(optarg);
			break;
		case O_TOKEN_FILE:
			free(token);
			token = sr_read_token_file(optarg);
			break;
		case O_RUNTIME_ID: srv.api.runtime_id = optarg; break;
		case O_DISPLAY_NAME: srv.api.display_name = optarg; break;
		case O_STATE_DIR: srv.api.state_dir = optarg; break;
		case O_RETENTION:
			retention = sr_num_arg("--retention", optarg, 1,
			    1u << 24);
			break;
		case O_MAX_TRANSCRIPT:
			srv.api.max_transcript = sr_num_arg("--max-transcript",
			    optarg, 1, 1u << 20);
			break;
		case O_TICK_MS:
			srv.tick_ms = sr_num_arg("--tick-ms", optarg, 0,
			    3600000);
			break;
		case O_READY_FILE: ready_file = optarg; break;
		case O_LOG_LEVEL:
			level = wlog_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, PROG ": bad --log-level\n");
				return 2;
			}
			break;
		case O_F_DELAY:
			srv.api.faults.delay_ms = (long)sr_num_arg(
			    "--fault-delay-ms", optarg, 0, 600000);
			break;
		case O_F_500: srv.api.faults.fail_500 = true; break;
		case O_F_INVALID_JSON:
			srv.api.faults.invalid_json = true;
			break;
		case O_F_OVERSIZE:
			srv.api.faults.oversize_bytes = sr_num_arg(
			    "--fault-oversize", optarg, 0, 256u << 20);
			break;
		case O_F_REFUSE: srv.api.faults.refuse_token = true; break;
		default:
			sr_usage();
			return c == 'h' ? 0 : 2;
		}
	}
	if (listen_arg == NULL || optind != argc ||
	    srv.api.runtime_id[0] == '\0') {
		sr_usage();
		return 2;
	}
	srv.api.token = token;
	if (strncmp(listen_arg, "unix:", 5) == 0 && listen_arg[5] != '\0') {
		unix_path = xstrdup(listen_arg + 5);
	} else {
		const char *colon = strrchr(listen_arg, ':');

		if (colon == NULL || colon == listen_arg) {
			fprintf(stderr, PROG ": --listen: want ADDR:PORT or "
			    "unix:PATH\n");
			return 2;
		}
		host = xstrndup(listen_arg, (size_t)(colon - listen_arg));
		port = sr_num_arg("--listen", colon + 1, 0, 65535);
	}

	wlog_init(PROG, (enum wlog_level)level);
	wlog_lws_route();

	if (store_open(&srv.st, srv.api.state_dir, retention, err,
	    sizeof(err)) != STORE_OK) {
		wlog(WLOG_ERR, NULL, NULL, "state: %s", err);
		goto out;
	}
	srv.api.st = srv.st;
	srv.queue_max_msgs = retention + 4096;
	srv.queue_max_bytes = 64u << 20;
	server_init(&srv);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sr_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* One context, two vhosts: "default" serves REST and the WS but
	 * listens nowhere; "listen" owns the socket and hands it only
	 * request heads that lws 4.1 parses correctly (lib/hdrgate.h).
	 * Header buffers hold the gate's 16 KiB heads: a 4096-byte token
	 * (wrg.conf's maximum) plus the longest escaped worker id fit. */
	memset(&info, 0, sizeof(info));
	info.user = &srv;
	info.gid = -1;
	info.uid = -1;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.max_http_header_data = HDRGATE_HEADER_DATA;
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
	    LWS_SERVER_OPTION_VALIDATE_UTF8;
	sr_context = lws_create_context(&info);
	if (sr_context == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "cannot create the lws context");
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.vhost_name = "default";
	info.protocols = server_protocols();
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.timeout_secs_ah_idle = HDRGATE_AH_IDLE_S;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	http_vh = lws_create_vhost(sr_context, &info);
	if (http_vh == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "cannot create the http vhost");
		goto out;
	}
	gate = hdrgate_new();
	hdrgate_set_target(gate, http_vh);
	memset(&info, 0, sizeof(info));
	info.vhost_name = "listen";
	hdrgate_listen_info(gate, &info);
	/* fail at once rather than waiting for the address to appear */
	info.options |= LWS_SERVER_OPTION_DISABLE_IPV6 |
	    LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (unix_path != NULL) {
		unlink(unix_path);
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		info.iface = unix_path;
		info.port = 0;
	} else {
		info.iface = host;
		info.port = (int)port;
	}
	vh = lws_create_vhost(sr_context, &info);
	if (vh == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "cannot listen on %s", listen_arg);
		goto out;
	}
	server_start(&srv, sr_context);
	if (unix_path == NULL && lws_get_vhost_listen_port(vh) <= 0) {
		wlog(WLOG_ERR, NULL, NULL, "not listening on %s", listen_arg);
		goto out;
	}
	if (ready_file != NULL && sr_write_ready_file(ready_file,
	    unix_path ? 0 : lws_get_vhost_listen_port(vh)) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "%s: cannot write ready file",
		    ready_file);
		goto out;
	}
	wlog(WLOG_INFO, NULL, srv.api.runtime_id, "listening on %s (port %d)",
	    listen_arg, lws_get_vhost_listen_port(vh));
	while (!sr_stop_flag)
		if (lws_service(sr_context, 0) < 0)
			break;
	rc = 0;
out:
	if (sr_context != NULL) {
		server_stop(&srv);
		lws_context_destroy(sr_context);
		sr_context = NULL;
	}
	hdrgate_free(gate);
	if (unix_path != NULL)
		unlink(unix_path);
	store_free(srv.st);
	free(token);
	free(host);
	free(unix_path);
	return rc;
}
