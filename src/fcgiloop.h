/*
 * fcgiloop — wrg.fcgi's FastCGI server: a few threads, each a
 * single-threaded event loop (a shard) that accepts from the one
 * listening socket, reads requests complete in memory (params and body,
 * fcgirec.c), runs the request handler, sends its runtime calls through
 * its own curl multi handle and writes the answer when they are back —
 * never blocking, so one thread has any number of requests in service
 * at once. An idle kept connection (FCGI_KEEP_CONN) costs a few hundred
 * bytes and no thread, so any number of kept connections from any number
 * of web servers never keep others from being served.
 *
 * Limits (docs/fcgi.md): at most max_conns connections (when full, the
 * longest-idle kept connection is closed for a new one; with none idle,
 * new connections wait in the listen backlog); a request's params must
 * arrive within FCGILOOP_HEAD_MS of its first byte; a connection with a
 * request arriving or a response leaving must move a byte at least every
 * FCGILOOP_STALL_MS.
 */
#ifndef WRG_FCGILOOP_H
#define WRG_FCGILOOP_H

#include "fcgim.h"
#include "registry.h"
#include "rtstate.h"

#define FCGILOOP_HEAD_MS 10000
#define FCGILOOP_STALL_MS 30000
#define FCGILOOP_MAX_PARAMS (128 * 1024)

struct fcgiloop_opts {
	int listen_fd;			/* listening; made non-blocking */
	unsigned threads;		/* event loop threads, 1..64 */
	unsigned max_conns;		/* 0: from RLIMIT_NOFILE, <= 4096 */
	const struct registry *reg;	/* borrowed */
	struct rtstate *rts;		/* borrowed */
	struct fcgim *metrics;		/* borrowed; NULL: metrics off */
	/* How long in-flight requests may take to finish after a stop. */
	long stop_limit_ms;
};

enum fcgiloop_err {
	FCGILOOP_OK = 0,
	FCGILOOP_SYS			/* epoll/eventfd/thread setup failed */
};

struct fcgiloop;

/* Makes the loop and starts its threads. NULL on a system error
 * (logged). The signals SIGTERM, SIGINT and SIGHUP must be blocked in
 * every thread before this: the loop takes them through a signalfd. */
struct fcgiloop *fcgiloop_new(const struct fcgiloop_opts *o);

/* Serves until SIGTERM/SIGINT, then stops accepting, closes idle
 * connections and lets requests already arriving or in service finish;
 * at stop_limit_ms, requests still waiting for a runtime are cut (their
 * connections closed, logged). SIGHUP is logged and ignored. Runs on
 * the calling thread, which takes the signals. */
enum fcgiloop_err fcgiloop_run(struct fcgiloop *l);

/* How many event loop threads it runs. */
unsigned fcgiloop_threads(const struct fcgiloop *l);

/* Stops and joins the threads, closes every connection (not the
 * listening socket) and frees l. NULL is a no-op. */
void fcgiloop_free(struct fcgiloop *l);

#endif
