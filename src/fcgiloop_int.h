/*
 * fcgiloop_int — what the three files of the FastCGI loop share
 * (fcgiloop.c: the shards, their epoll loops, start and stop;
 * fcgiloop_conn.c: connection I/O and deadlines; fcgiloop_serve.c: one
 * request through the handler and its runtime calls): the loop's state
 * and the steps each takes from another. Not for other modules (they use
 * fcgiloop.h). Ownership is described at the top of fcgiloop.c.
 */
#ifndef WRG_FCGILOOP_INT_H
#define WRG_FCGILOOP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "fcgiloop.h"
#include "fcgirec.h"
#include "handler.h"
#include "resp.h"
#include "upstream.h"

#define FCGILOOP_READ_BUF 65536
#define FCGILOOP_EVENTS 64
#define FCGILOOP_ACCEPT_BURST 64
#define FCGILOOP_TICK_MS 1000
#define FCGILOOP_STOP_GRACE_MS 1000
#define FCGILOOP_MAX_SHARDS 64
/* Runtime calls in flight per thread. Each takes a descriptor: the
 * threads share the half of RLIMIT_NOFILE that FastCGI connections
 * leave (fcgiloop_max_calls), within these bounds. Their answers'
 * memory is bounded by upstream's budget, not by this (docs/fcgi.md,
 * "Memory per request"); a request whose calls do not fit waits for
 * others to finish. */
#define FCGILOOP_MIN_CALLS 32
#define FCGILOOP_MAX_CALLS 256

/* What an epoll registration of a shard stands for. */
enum fcgiloop_src_kind {
	FCGILOOP_SRC_LISTEN,
	FCGILOOP_SRC_WAKE,
	FCGILOOP_SRC_CONN,	/* a struct fcgiloop_conn */
	FCGILOOP_SRC_CURL	/* a socket of the shard's curl multi */
};

/* The head of everything an epoll event can name. A closed one is
 * marked dead and freed at the end of its shard's turn, after every
 * event already taken from the kernel has been looked at. */
struct fcgiloop_src {
	enum fcgiloop_src_kind kind;
	int fd;				/* -1 once closed or dropped */
	bool dead;
	struct fcgiloop_src *dead_next;
};

struct fcgiloop_shard;
struct fcgiloop_conn;

/* A descriptor number curl has used in a shard: kept for the shard's
 * life (so an event may name it at any time), with what is registered
 * in epoll, so a socket curl watches again for the same events (a kept
 * runtime connection, reused) costs no epoll_ctl. A runtime connection
 * curl keeps idle stays registered ("parked"): its next use costs
 * nothing, and an event on it while parked (the runtime closed it)
 * takes it out. */
struct fcgiloop_csock {
	struct fcgiloop_src src;	/* kind FCGILOOP_SRC_CURL */
	bool in_epoll;
	uint32_t events;		/* registered, when in_epoll */
	bool conn;			/* a connection curl opened with us
					 * told of its close: may park */
	bool parked;			/* registered, not watched by curl */
};

/* One request, from the moment its params and body are in memory until
 * its answer is handed to the connection. */
struct fcgiloop_job {
	struct fcgiloop_job *next;	/* the shard's ready list */
	struct fcgiloop_shard *s;
	struct fcgiloop_conn *conn;
	uint16_t id;
	struct fcgirec_req *req;	/* freed once answered */
	size_t body_pos;		/* read_body's position in req */
	struct handler_req hreq;	/* points into req */
	char *uri;			/* built from DOCUMENT_URI, or NULL */
	struct resp out;
	struct handler_task *task;	/* while its calls run */
	struct upstream_batch *batch;	/* the calls, while they run */
	size_t ncalls;			/* the task's, from handler_begin */
	char *head, *body;		/* the answer */
	size_t head_len, body_len;
};

struct fcgiloop_conn {
	struct fcgiloop_src src;	/* first: events name it */
	struct fcgiloop_conn *prev, *next;
	struct fcgirec_parser *p;
	struct fcgiloop_job *job;	/* in service, or NULL */
	bool aborted;			/* drop the job's answer */
	bool keep_conn;			/* of the request in service */
	bool close_after;		/* close once the output is out */
	bool want_out;			/* EPOLLOUT registered */
	bool out_on;
	bool served;			/* has carried a request */
	struct fcgirec_out out;
	char *out_head, *out_body;	/* owned while out_on */
	int64_t head_start, last_io;	/* monotonic ms */
};

/* One event loop thread: its own epoll set, connections and runtime
 * client. Nothing in it is touched by another thread. */
struct fcgiloop_shard {
	struct fcgiloop *l;
	pthread_t tid;
	bool started;
	int epfd, evfd;
	struct fcgiloop_src listen_src, wake_src;
	bool listening, stopping;
	struct fcgiloop_conn *conns;	/* doubly linked */
	unsigned nconns;
	struct fcgiloop_src *dead;	/* to free at the end of the turn */
	struct fcgiloop_job *ready;	/* completed by the current event */
	size_t calls;			/* runtime calls in flight */
	struct fcgiloop_job *wait_head, *wait_tail;	/* calls to start */
	int64_t last_tick;
	int64_t curl_deadline;		/* monotonic ms; -1: none */
	struct handler_ctx ctx;		/* ctx.up is this shard's */
	struct fcgiloop_csock **csocks;	/* by descriptor number */
	size_t ncsocks;
	uint8_t rbuf[FCGILOOP_READ_BUF];
};

struct fcgiloop {
	struct fcgiloop_opts o;
	struct fcgirec_limits lim;
	const char *allowed_addrs;	/* FCGI_WEB_SERVER_ADDRS or NULL */
	int sigfd, donefd;		/* signals; shards that ended */
	atomic_uint nconns;		/* over all shards */
	atomic_bool stopping, quit;
	_Atomic int64_t stop_start, stop_deadline;
	atomic_uint cut;		/* requests cut at the stop limit */
	size_t max_calls;		/* per shard: fcgiloop_max_calls */
	struct fcgiloop_shard *shards;
	unsigned nshards;
};

/* Monotonic milliseconds. */
int64_t fcgiloop_now(void);

/* Serves a complete request: the metrics page or the handler; answered
 * at once, or when its runtime calls are back. Takes ownership of job. */
void fcgiloop_serve(struct fcgiloop_shard *s, struct fcgiloop_job *job);

/* Drops a job whose answer nobody will read (its connection is torn
 * down at the stop limit, or left before its calls started): cancels
 * its calls. */
void fcgiloop_job_cut(struct fcgiloop_shard *s, struct fcgiloop_job *job);

/* Frees a job and what it owns. NULL is a no-op. */
void fcgiloop_job_free(struct fcgiloop_job *job);

/* Queues src to be freed at the end of the turn. */
void fcgiloop_src_defer(struct fcgiloop_shard *s, struct fcgiloop_src *src);

/* Frees what the turn left dead. */
void fcgiloop_reap(struct fcgiloop_shard *s);

/* Closes c's socket; frees c (at the end of the turn) unless its job is
 * still out. */
void fcgiloop_conn_close(struct fcgiloop_shard *s, struct fcgiloop_conn *c);

/* Writes what is queued on c. Returns false if c was closed. */
bool fcgiloop_flush(struct fcgiloop_shard *s, struct fcgiloop_conn *c);

/* Reads what c's web server sent and feeds the parser; a completed
 * request goes to s->ready. */
void fcgiloop_on_read(struct fcgiloop_shard *s, struct fcgiloop_conn *c);

/* A job was answered: queues its answer on its connection (or frees
 * both if the web server left) and takes ownership of job. */
void fcgiloop_on_done(struct fcgiloop_shard *s, struct fcgiloop_job *job);

/* Accepts up to burst new connections (or stops listening when
 * full). */
void fcgiloop_on_accept(struct fcgiloop_shard *s, int burst);

/* Starts (or, when full, stops) listening in s. */
void fcgiloop_listen(struct fcgiloop_shard *s, bool on);

/* Closes connections past their deadlines (head, stall). */
void fcgiloop_tick(struct fcgiloop_shard *s, int64_t now);

/* While stopping: closes the quiet connections (see fcgiloop_conn.c). */
void fcgiloop_stop_sweep(struct fcgiloop_shard *s, int64_t now);

#endif
