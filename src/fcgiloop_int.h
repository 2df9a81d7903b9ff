/*
 * fcgiloop_int — what the three files of the FastCGI loop share
 * (fcgiloop.c: the thread pool, the epoll set, start and stop;
 * fcgiloop_conn.c: connection I/O and deadlines; fcgiloop_serve.c: one
 * request through the handler): the loop's state and the steps each
 * takes from another. Not for other modules (they use fcgiloop.h).
 * Ownership and locking are described at the top of fcgiloop.c.
 */
#ifndef WRG_FCGILOOP_INT_H
#define WRG_FCGILOOP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "fcgiloop.h"
#include "fcgirec.h"
#include "handler.h"

#define FCGILOOP_READ_BUF 65536
#define FCGILOOP_ACCEPT_BURST 64
#define FCGILOOP_TICK_MS 1000
#define FCGILOOP_STOP_GRACE_MS 1000

struct fcgiloop_conn;

struct fcgiloop_job {
	struct fcgiloop_job *next;
	struct fcgiloop_conn *conn;	/* touched only under l->st */
	uint16_t id;
	struct fcgirec_req *req;	/* freed once served */
	char *head, *body;		/* the answer, filled when served */
	size_t head_len, body_len;
};

struct fcgiloop_conn {
	struct fcgiloop_conn *prev, *next;
	int fd;				/* -1 once closed */
	struct fcgirec_parser *p;
	struct fcgiloop_job *job;	/* in service or queued, or NULL */
	bool aborted;			/* drop the job's answer */
	bool keep_conn;			/* of the request in service */
	bool close_after;		/* close once the output is out */
	bool want_out;			/* EPOLLOUT registered */
	bool out_on;
	bool dead;			/* unlinked, freed by fcgiloop_reap */
	uint64_t dead_gen;		/* l->gen at the unlink */
	bool served;			/* has carried a request */
	struct fcgirec_out out;
	char *out_head, *out_body;	/* owned while out_on */
	int64_t head_start, last_io;	/* monotonic ms */
};

struct fcgiloop_worker {
	pthread_t tid;
	struct fcgiloop *l;
	uint64_t wait_gen;		/* l->gen when it entered epoll_wait,
					 * UINT64_MAX when not waiting */
};

struct fcgiloop {
	struct fcgiloop_opts o;
	struct fcgirec_limits lim;
	int epfd, evfd, sigfd;
	bool listening, stopping;
	int64_t stop_start, stop_deadline;
	struct fcgiloop_conn *conns;	/* doubly linked */
	struct fcgiloop_conn *dead;	/* to free after this batch */
	unsigned nconns;
	unsigned inflight;		/* jobs in service or queued */
	int64_t last_tick;
	const char *allowed_addrs;	/* FCGI_WEB_SERVER_ADDRS or NULL */

	pthread_mutex_t st;		/* guards all of the loop state */
	pthread_cond_t end_cv;		/* ended */
	struct fcgiloop_job *ready;	/* completed by the current event */
	struct fcgiloop_job *queue, *queue_tail;
	unsigned busy;			/* threads serving a request */
	uint64_t gen;			/* counts connection frees */
	bool pool_stop, ended;
	enum fcgiloop_err result;
	struct fcgiloop_worker *workers;
	unsigned nworkers;

	uint8_t rbuf[FCGILOOP_READ_BUF];
};

/* Monotonic milliseconds. */
int64_t fcgiloop_now(void);

/* Serves one request (no lock held): params in, handler, the answer into
 * the job; frees job->req. */
void fcgiloop_serve(struct handler_ctx *ctx, struct fcgiloop_job *job);

/* Frees a job and what it owns. NULL is a no-op. */
void fcgiloop_job_free(struct fcgiloop_job *job);

/* Closes c's socket (if still open) and frees c with what it owns. */
void fcgiloop_conn_release(struct fcgiloop_conn *c);

/* Frees the dead connections no thread in epoll_wait can be about to
 * handle. */
void fcgiloop_reap(struct fcgiloop *l);

/* Arms c again (EPOLLONESHOT) after one of its events was handled. */
void fcgiloop_arm(struct fcgiloop *l, struct fcgiloop_conn *c);

/* Closes c's socket; frees c unless its job is still out. */
void fcgiloop_conn_close(struct fcgiloop *l, struct fcgiloop_conn *c);

/* Writes what is queued on c. Returns false if c was closed. */
bool fcgiloop_flush(struct fcgiloop *l, struct fcgiloop_conn *c);

/* Appends job to the queue of requests waiting for a free thread. */
void fcgiloop_enqueue(struct fcgiloop *l, struct fcgiloop_job *job);

/* Reads what c's web server sent and feeds the parser; completed
 * requests go to l->ready. */
void fcgiloop_on_read(struct fcgiloop *l, struct fcgiloop_conn *c);

/* A served job came back: queues its answer on its connection (or
 * frees both if the web server left) and takes ownership of job. */
void fcgiloop_on_done(struct fcgiloop *l, struct fcgiloop_job *job);

/* Accepts a burst of new connections (or stops listening when full). */
void fcgiloop_on_accept(struct fcgiloop *l);

/* Closes connections past their deadlines (head, stall). */
void fcgiloop_tick(struct fcgiloop *l, int64_t now);

/* While stopping: closes the quiet connections (see fcgiloop_conn.c). */
void fcgiloop_stop_sweep(struct fcgiloop *l, int64_t now);

#endif
