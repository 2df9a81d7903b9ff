/*
 * fcgiloop — the thread pool and event loop of wrg.fcgi (contract
 * in fcgiloop.h, design in docs/fcgi.md).
 *
 * Threads: every thread not serving a request waits in epoll_wait on
 * the one epoll set, where each descriptor is armed EPOLLONESHOT, so one
 * event wakes one thread. That thread handles the event and, when it
 * completes a request, serves it itself and writes the answer: a request
 * costs no hand-off between threads (measured in docs/bench.md). A thread
 * serves only while another one is left to read, accept and stop; a
 * request found when all others serve waits in the job queue for the
 * next thread that finishes.
 *
 * Ownership: the loop state (every struct fcgiloop_conn, the epoll
 * registrations, the queue, the counters) is touched only under l->st,
 * never held across epoll_wait or a handler call. A closed connection is
 * freed only once every thread then in epoll_wait has come back (an
 * event already taken from the kernel may still name it; see
 * fcgiloop_reap). A job (one complete request) owns the request and,
 * once answered, the response buffers. A connection whose web server left
 * while its job was out is closed at once but freed only when the job
 * comes back (whichever of "closed" and "job returned" happens last frees
 * it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fcgiloop.h"
#include "fcgirec.h"
#include "handler.h"
#include "upstream.h"
#include "wlog.h"
#include "xalloc.h"

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

static int64_t
fcgiloop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- serving a request (no lock held) --- */

struct fcgiloop_body {
	const struct fcgirec_req *req;
	size_t pos;
};

static ssize_t
fcgiloop_read_body(void *arg, char *buf, size_t cap)
{
	struct fcgiloop_body *b = arg;
	size_t n = b->req->body_len - b->pos;

	if (n > cap)
		n = cap;
	if (n == 0)
		return 0;	/* body may be NULL: no memcpy from it */
	memcpy(buf, b->req->body + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

/* One request: params in, handler, the answer into the job. */
static void
fcgiloop_serve(struct handler_ctx *ctx, struct fcgiloop_job *job)
{
	const struct fcgirec_req *r = job->req;
	struct fcgiloop_body body = { r, 0 };
	struct handler_req req;
	struct resp out;
	char *uri = NULL;

	memset(&req, 0, sizeof(req));
	memset(&out, 0, sizeof(out));
	req.method = fcgirec_req_param(r, "REQUEST_METHOD");
	req.uri = fcgirec_req_param(r, "REQUEST_URI");
	if (req.uri == NULL) {
		/* Not seen with lighttpd, nginx or Apache; the documented
		 * fallback of browser-api.md. */
		const char *doc = fcgirec_req_param(r, "DOCUMENT_URI");
		const char *qs = fcgirec_req_param(r, "QUERY_STRING");

		if (doc != NULL) {
			uri = xasprintf("%s%s%s", doc, qs && *qs ? "?" : "",
			    qs && *qs ? qs : "");
			req.uri = uri;
		}
	}
	req.content_type = fcgirec_req_param(r, "CONTENT_TYPE");
	req.content_length = fcgirec_req_param(r, "CONTENT_LENGTH");
	req.request_id = fcgirec_req_param(r, "HTTP_X_REQUEST_ID");
	req.read_body = fcgiloop_read_body;
	req.read_arg = &body;

	if (fcgim_serve(ctx->metrics, ctx->reg, req.method, req.uri,
	    &job->head, &job->body, &job->body_len)) {
		job->head_len = strlen(job->head);
		goto out;
	}
	fcgim_request_begin(ctx->metrics);
	handler_handle(ctx, &req, &out);
	fcgim_request_end(ctx->metrics, out.route, out.rt_ref, out.status);

	job->head = resp_headers(&out);
	job->head_len = strlen(job->head);
	if (!out.head) {
		job->body = out.body;
		job->body_len = out.body_len;
		out.body = NULL;
	}
out:
	resp_clear(&out);
	free(uri);
	fcgirec_req_free(job->req);
	job->req = NULL;
}

static void
fcgiloop_job_free(struct fcgiloop_job *job)
{
	if (job == NULL)
		return;
	fcgirec_req_free(job->req);
	free(job->head);
	free(job->body);
	free(job);
}

/* --- connections (l->st held) --- */

/* Unlinks c; it is freed once no event taken from the kernel can still
 * name it (fcgiloop_reap). */
static void
fcgiloop_conn_free(struct fcgiloop *l, struct fcgiloop_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->dead = true;
	c->dead_gen = ++l->gen;
	c->prev = NULL;
	c->next = l->dead;
	l->dead = c;
	l->nconns--;
	if (!l->listening && !l->stopping) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
		    .data.ptr = &l->o.listen_fd };

		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->o.listen_fd,
		    &ev) == 0)
			l->listening = true;
	}
}

static void
fcgiloop_conn_release(struct fcgiloop_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	fcgirec_parser_free(c->p);
	free(c->out_head);
	free(c->out_body);
	free(c);
}

/* Frees the dead connections no thread in epoll_wait can be about to
 * handle: those unlinked (so removed from the epoll set) before the
 * earliest of those threads entered epoll_wait. l->dead is newest first.
 * A thread's own slot is cleared before it calls this. */
static void
fcgiloop_reap(struct fcgiloop *l)
{
	uint64_t min = UINT64_MAX;
	struct fcgiloop_conn **pp;

	for (unsigned i = 0; i < l->nworkers; i++)
		if (l->workers[i].wait_gen < min)
			min = l->workers[i].wait_gen;
	for (pp = &l->dead; *pp && (*pp)->dead_gen > min; pp = &(*pp)->next)
		;
	while (*pp) {
		struct fcgiloop_conn *c = *pp;

		*pp = c->next;
		fcgiloop_conn_release(c);
	}
}

/* Arms c again (EPOLLONESHOT) after one of its events was handled. */
static void
fcgiloop_arm(struct fcgiloop *l, struct fcgiloop_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT |
	    (c->want_out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->fd >= 0 && !c->dead)
		epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Closes the socket; frees c unless its job is still out. */
static void
fcgiloop_conn_close(struct fcgiloop *l, struct fcgiloop_conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->job != NULL) {
		c->aborted = true;
		return;
	}
	fcgiloop_conn_free(l, c);
}

static bool
fcgiloop_conn_quiet(const struct fcgiloop_conn *c)
{
	size_t rl;

	(void)fcgirec_reply(c->p, &rl);
	return c->fd >= 0 && c->job == NULL && !c->out_on && rl == 0 &&
	    fcgirec_idle(c->p);
}

static void
fcgiloop_want_out(struct fcgiloop *l, struct fcgiloop_conn *c, bool on)
{
	if (c->want_out == on)
		return;
	c->want_out = on;
	fcgiloop_arm(l, c);
}

/* Writes what is queued: management replies between records, the
 * response's records. Returns false if c was closed. */
static bool
fcgiloop_flush(struct fcgiloop *l, struct fcgiloop_conn *c)
{
	for (;;) {
		struct iovec iov[FCGIREC_OUT_IOV];
		const uint8_t *rp;
		size_t rl;
		ssize_t n;
		int cnt;
		bool reply;

		rp = fcgirec_reply(c->p, &rl);
		/* A reply goes out only at a record boundary of the
		 * response, and once started it is finished first. */
		reply = rl > 0 && !(c->out_on && c->out.cur_done > 0);
		if (reply) {
			iov[0].iov_base = (void *)rp;
			iov[0].iov_len = rl;
			cnt = 1;
		} else if (c->out_on) {
			cnt = fcgirec_out_iov(&c->out, iov);
		} else {
			break;
		}
		n = writev(c->fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				fcgiloop_want_out(l, c, true);
				return true;
			}
			wlog(WLOG_DEBUG, NULL, NULL, "fcgi write: %s",
			    strerror(errno));
			fcgiloop_conn_close(l, c);
			return false;
		}
		c->last_io = fcgiloop_now();
		if (reply) {
			fcgirec_reply_consume(c->p, (size_t)n);
			continue;
		}
		fcgirec_out_advance(&c->out, (size_t)n);
		if (fcgirec_out_done(&c->out)) {
			c->out_on = false;
			free(c->out_head);
			free(c->out_body);
			c->out_head = c->out_body = NULL;
		}
	}
	fcgiloop_want_out(l, c, false);
	if (c->close_after || (l->stopping && fcgiloop_conn_quiet(c))) {
		fcgiloop_conn_close(l, c);
		return false;
	}
	return true;
}

static void
fcgiloop_dispatch(struct fcgiloop *l, struct fcgiloop_conn *c,
    struct fcgirec_req *req)
{
	struct fcgiloop_job *job = xcalloc(1, sizeof(*job));

	job->conn = c;
	job->id = req->id;
	job->req = req;
	c->job = job;
	c->served = true;
	c->keep_conn = req->keep_conn;
	c->aborted = false;
	l->inflight++;
	/* Served once the event is handled (fcgiloop_wait). */
	job->next = l->ready;
	l->ready = job;
}

static void
fcgiloop_enqueue(struct fcgiloop *l, struct fcgiloop_job *job)
{
	job->next = NULL;
	if (l->queue_tail)
		l->queue_tail->next = job;
	else
		l->queue = job;
	l->queue_tail = job;
}

static void
fcgiloop_on_read(struct fcgiloop *l, struct fcgiloop_conn *c)
{
	ssize_t n;
	size_t off = 0, used;
	bool was_idle = fcgirec_idle(c->p);

	n = read(c->fd, l->rbuf, sizeof(l->rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The web server closed (or reset) the connection; a job
		 * still out is answered to nobody. */
		fcgiloop_conn_close(l, c);
		return;
	}
	c->last_io = fcgiloop_now();
	while (off < (size_t)n) {
		struct fcgirec_event ev;
		enum fcgirec_err e;

		e = fcgirec_feed(c->p, l->rbuf + off, (size_t)n - off, &used,
		    &ev);
		off += used;
		if (e != FCGIREC_OK) {
			wlog(WLOG_WARN, NULL, NULL, "fastcgi connection "
			    "closed: %s", fcgirec_strerror(e));
			fcgiloop_conn_close(l, c);
			return;
		}
		if (ev.kind == FCGIREC_EV_REQUEST) {
			fcgiloop_dispatch(l, c, fcgirec_take(c->p));
		} else if (ev.kind == FCGIREC_EV_ABORT) {
			if (ev.taken)
				c->aborted = true;
			else if (!ev.keep_conn)
				c->close_after = true;
		}
	}
	if (was_idle && !fcgirec_idle(c->p))
		c->head_start = c->last_io;
	(void)fcgiloop_flush(l, c);
}

/* A job came back: queue its answer (or just END_REQUEST if aborted). */
static void
fcgiloop_on_done(struct fcgiloop *l, struct fcgiloop_job *job)
{
	struct fcgiloop_conn *c = job->conn;

	l->inflight--;
	c->job = NULL;
	if (c->fd < 0) {
		fcgiloop_job_free(job);
		fcgiloop_conn_free(l, c);
		return;
	}
	if (c->aborted) {
		fcgirec_out_init(&c->out, job->id, NULL, 0, NULL, 0);
	} else {
		c->out_head = job->head;
		c->out_body = job->body;
		job->head = job->body = NULL;
		fcgirec_out_init(&c->out, job->id, c->out_head,
		    job->head_len, c->out_body, job->body_len);
	}
	c->out_on = true;
	fcgirec_done(c->p);
	if (!c->keep_conn)
		c->close_after = true;
	fcgiloop_job_free(job);
	(void)fcgiloop_flush(l, c);
}

/* Makes every thread leave epoll_wait (the eventfd stays readable). */
static void
fcgiloop_wake_all(struct fcgiloop *l)
{
	uint64_t one = 1;

	if (l->evfd >= 0 && write(l->evfd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		wlog(WLOG_ERR, NULL, NULL, "eventfd write: %s",
		    strerror(errno));
}

/* FCGI_WEB_SERVER_ADDRS, as libfcgi honours it: a comma-separated list
 * of the addresses TCP peers may come from. */
static bool
fcgiloop_peer_allowed(const struct fcgiloop *l,
    const struct sockaddr_storage *ss)
{
	char addr[INET6_ADDRSTRLEN];
	const char *s = l->allowed_addrs;
	size_t alen;

	if (s == NULL || (ss->ss_family != AF_INET &&
	    ss->ss_family != AF_INET6))
		return true;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    addr, sizeof(addr));
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, addr,
		    sizeof(addr));
	alen = strlen(addr);
	while (*s) {
		size_t n = strcspn(s, ",");

		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		if (n == alen && strncmp(s, addr, n) == 0)
			return true;
		s += n;
		if (*s == ',')
			s++;
	}
	return false;
}

/* Makes room for one more connection: closes the longest-idle kept
 * connection. False when none is idle. */
static bool
fcgiloop_make_room(struct fcgiloop *l)
{
	struct fcgiloop_conn *c, *oldest = NULL;

	for (c = l->conns; c; c = c->next)
		if (fcgiloop_conn_quiet(c) &&
		    (oldest == NULL || c->last_io < oldest->last_io))
			oldest = c;
	if (oldest == NULL)
		return false;
	fcgiloop_conn_close(l, oldest);
	return true;
}

static void
fcgiloop_on_accept(struct fcgiloop *l)
{
	for (int i = 0; i < FCGILOOP_ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct fcgiloop_conn *c;
		struct epoll_event ev;
		int fd;

		if (l->nconns >= l->lim.max_conns && !fcgiloop_make_room(l)) {
			/* Full of busy connections: new ones wait in the
			 * backlog until one closes. */
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->o.listen_fd, NULL);
			l->listening = false;
			return;
		}
		fd = accept4(l->o.listen_fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				wlog(WLOG_WARN, NULL, NULL, "accept: %s",
				    strerror(errno));
			return;
		}
		if (!fcgiloop_peer_allowed(l, &ss)) {
			wlog(WLOG_WARN, NULL, NULL, "connection from an "
			    "address not in FCGI_WEB_SERVER_ADDRS refused");
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->p = fcgirec_parser_new(&l->lim);
		c->last_io = c->head_start = fcgiloop_now();
		c->next = l->conns;
		if (l->conns)
			l->conns->prev = c;
		l->conns = c;
		l->nconns++;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLONESHOT;
		ev.data.ptr = c;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "epoll_ctl: %s",
			    strerror(errno));
			fcgiloop_conn_close(l, c);
		}
	}
}

/* Deadlines, once a second: a slow head, a stalled body or response. */
static void
fcgiloop_tick(struct fcgiloop *l, int64_t now)
{
	struct fcgiloop_conn *c, *next;

	for (c = l->conns; c; c = next) {
		size_t rl;

		next = c->next;
		if (c->fd < 0 || c->job != NULL)
			continue;
		(void)fcgirec_reply(c->p, &rl);
		if (fcgirec_in_head(c->p) &&
		    now - c->head_start > FCGILOOP_HEAD_MS) {
			wlog(WLOG_WARN, NULL, NULL, "fastcgi connection "
			    "closed: request head not complete in %d ms",
			    FCGILOOP_HEAD_MS);
			fcgiloop_conn_close(l, c);
		} else if ((!fcgirec_idle(c->p) || c->out_on || rl > 0) &&
		    now - c->last_io > FCGILOOP_STALL_MS) {
			wlog(WLOG_WARN, NULL, NULL, "fastcgi connection "
			    "closed: no progress in %d ms", FCGILOOP_STALL_MS);
			fcgiloop_conn_close(l, c);
		}
	}
}

/* While stopping: closes the quiet connections, except those with bytes
 * waiting to be read and, for FCGILOOP_STOP_GRACE_MS, fresh ones whose
 * first request may still be on its way (a web server that connected
 * just before the signal must not get a reset). */
static void
fcgiloop_stop_sweep(struct fcgiloop *l, int64_t now)
{
	struct fcgiloop_conn *c, *next;
	char b;

	for (c = l->conns; c; c = next) {
		next = c->next;
		if (!fcgiloop_conn_quiet(c))
			continue;
		if (!c->served && now - l->stop_start < FCGILOOP_STOP_GRACE_MS)
			continue;
		if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
			continue;
		fcgiloop_conn_close(l, c);
	}
}

static void
fcgiloop_begin_stop(struct fcgiloop *l)
{
	wlog(WLOG_INFO, NULL, NULL, "shutting down");
	/* Take what is already in the backlog: those web servers have
	 * connected and may be sending a request. */
	if (l->listening)
		fcgiloop_on_accept(l);
	l->stopping = true;
	l->stop_start = fcgiloop_now();
	l->stop_deadline = l->stop_start + l->o.stop_limit_ms;
	if (l->listening)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->o.listen_fd, NULL);
	l->listening = false;
	fcgiloop_stop_sweep(l, l->stop_start);
}

static void
fcgiloop_on_signal(struct fcgiloop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			/* The config is read once at start; reload is a
			 * restart by the web server or systemd. */
			wlog(WLOG_INFO, NULL, NULL, "SIGHUP ignored: restart "
			    "to reload the config");
			continue;
		}
		if (!l->stopping)
			fcgiloop_begin_stop(l);
	}
}

/* While stopping: whether the loop has ended, and how. Under l->st. */
static bool
fcgiloop_stop_check(struct fcgiloop *l, enum fcgiloop_err *rc)
{
	fcgiloop_stop_sweep(l, fcgiloop_now());
	fcgiloop_reap(l);
	*rc = FCGILOOP_OK;
	if (l->nconns == 0)
		return true;
	if (fcgiloop_now() > l->stop_deadline) {
		if (l->inflight > 0) {
			*rc = FCGILOOP_STUCK;
			return true;
		}
		while (l->conns)
			fcgiloop_conn_close(l, l->conns);
		fcgiloop_reap(l);
		return true;
	}
	return false;
}

/* Handles one event (l->st held). */
static void
fcgiloop_event(struct fcgiloop *l, const struct epoll_event *ev)
{
	void *p = ev->data.ptr;
	struct fcgiloop_conn *c = p;
	struct epoll_event re = { .events = EPOLLIN | EPOLLONESHOT,
	    .data.ptr = p };

	if (p == &l->o.listen_fd) {
		if (l->listening)
			fcgiloop_on_accept(l);
		if (l->listening)
			epoll_ctl(l->epfd, EPOLL_CTL_MOD, l->o.listen_fd, &re);
	} else if (p == &l->evfd) {
		/* The end: l->pool_stop is set. */
	} else if (p == &l->sigfd) {
		fcgiloop_on_signal(l);
		epoll_ctl(l->epfd, EPOLL_CTL_MOD, l->sigfd, &re);
	} else if (c->dead || c->fd < 0) {
		return;
	} else {
		if (ev->events & EPOLLOUT) {
			/* Writable (or error): flush; a reset shows up as
			 * a write error. */
			if (fcgiloop_flush(l, c) && (ev->events &
			    (EPOLLIN | EPOLLHUP | EPOLLERR)))
				fcgiloop_on_read(l, c);
		} else {
			fcgiloop_on_read(l, c);
		}
		fcgiloop_arm(l, c);
	}
}

/* Ends the loop (l->st held): every thread leaves, fcgiloop_run returns
 * rc. */
static void
fcgiloop_end(struct fcgiloop *l, enum fcgiloop_err rc)
{
	if (l->ended)
		return;
	l->ended = true;
	l->result = rc;
	l->pool_stop = true;
	fcgiloop_wake_all(l);
	pthread_cond_broadcast(&l->end_cv);
}

/* Waits for one event and handles it (l->st held, released while
 * waiting). Returns the request it completed if this thread may serve
 * it; a request it may not serve goes to the queue. */
static struct fcgiloop_job *
fcgiloop_wait(struct fcgiloop *l, struct fcgiloop_worker *w)
{
	struct fcgiloop_job *job, *next;
	struct epoll_event ev;
	int64_t now;
	int n, timeout = l->stopping ? 100 : FCGILOOP_TICK_MS;

	w->wait_gen = l->gen;
	pthread_mutex_unlock(&l->st);
	n = epoll_wait(l->epfd, &ev, 1, timeout);
	pthread_mutex_lock(&l->st);
	w->wait_gen = UINT64_MAX;
	if (n < 0 && errno != EINTR) {
		wlog(WLOG_ERR, NULL, NULL, "epoll_wait: %s", strerror(errno));
		fcgiloop_end(l, FCGILOOP_SYS);
		return NULL;
	}
	if (n == 1)
		fcgiloop_event(l, &ev);
	fcgiloop_reap(l);
	now = fcgiloop_now();
	if (now - l->last_tick >= FCGILOOP_TICK_MS) {
		l->last_tick = now;
		fcgiloop_tick(l, now);
	}
	job = l->ready;
	l->ready = NULL;
	if (job == NULL)
		return NULL;
	/* One connection completes one request at a time, so this is at
	 * most one job; the queue takes any other all the same. */
	for (next = job->next; next; next = job->next) {
		job->next = next->next;
		next->next = NULL;
		fcgiloop_enqueue(l, next);
	}
	if (l->busy + 1 >= l->nworkers) {
		/* Every other thread serves: keep reading, let the next
		 * one to finish serve it. */
		fcgiloop_enqueue(l, job);
		return NULL;
	}
	return job;
}

/* A pool thread: waits in epoll_wait, serves what it completes, and
 * after serving takes what waits in the queue. */
static void *
fcgiloop_thread_run(void *arg)
{
	struct fcgiloop_worker *w = arg;
	struct fcgiloop *l = w->l;
	struct handler_ctx ctx;

	ctx.reg = l->o.reg;
	ctx.rts = l->o.rts;
	ctx.up = upstream_new(l->o.reg);
	ctx.metrics = l->o.metrics;
	pthread_mutex_lock(&l->st);
	for (;;) {
		struct fcgiloop_job *job = NULL;
		enum fcgiloop_err rc;

		if (l->pool_stop)
			break;
		if (l->stopping && fcgiloop_stop_check(l, &rc)) {
			fcgiloop_end(l, rc);
			break;
		}
		if (l->queue != NULL && l->busy + 1 < l->nworkers) {
			job = l->queue;
			l->queue = job->next;
			if (l->queue == NULL)
				l->queue_tail = NULL;
			job->next = NULL;
		} else {
			job = fcgiloop_wait(l, w);
		}
		if (job == NULL)
			continue;
		l->busy++;
		pthread_mutex_unlock(&l->st);
		fcgiloop_serve(&ctx, job);
		pthread_mutex_lock(&l->st);
		l->busy--;
		fcgiloop_on_done(l, job);
	}
	pthread_mutex_unlock(&l->st);
	upstream_free(ctx.up);
	return NULL;
}

enum fcgiloop_err
fcgiloop_run(struct fcgiloop *l)
{
	enum fcgiloop_err rc;

	pthread_mutex_lock(&l->st);
	while (!l->ended)
		pthread_cond_wait(&l->end_cv, &l->st);
	rc = l->result;
	pthread_mutex_unlock(&l->st);
	return rc;
}

static unsigned
fcgiloop_default_max_conns(void)
{
	struct rlimit rl;
	rlim_t n = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		n = rl.rlim_cur;
	/* Half the descriptors: the rest are for runtime connections. */
	n /= 2;
	if (n > 4096)
		n = 4096;
	return n < 16 ? 16 : (unsigned)n;
}

struct fcgiloop *
fcgiloop_new(const struct fcgiloop_opts *o)
{
	struct fcgiloop *l = xcalloc(1, sizeof(*l));
	struct epoll_event ev;
	sigset_t set;
	int flags;

	l->o = *o;
	l->epfd = l->evfd = l->sigfd = -1;
	l->lim.max_params_bytes = FCGILOOP_MAX_PARAMS;
	l->lim.max_body_bytes = o->reg->max_request_body_bytes;
	l->lim.max_conns = o->max_conns ? o->max_conns :
	    fcgiloop_default_max_conns();
	l->allowed_addrs = getenv("FCGI_WEB_SERVER_ADDRS");
	if (l->allowed_addrs != NULL && l->allowed_addrs[0] == '\0')
		l->allowed_addrs = NULL;
	l->last_tick = fcgiloop_now();
	pthread_mutex_init(&l->st, NULL);
	pthread_cond_init(&l->end_cv, NULL);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	flags = fcntl(o->listen_fd, F_GETFL);
	if (flags < 0 || fcntl(o->listen_fd, F_SETFL, flags | O_NONBLOCK) != 0)
		goto fail;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->epfd < 0 || l->evfd < 0 || l->sigfd < 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	/* Level-triggered and never read: once written (at the end), it
	 * wakes every thread. */
	ev.events = EPOLLIN;
	ev.data.ptr = &l->evfd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev) != 0)
		goto fail;
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = &l->sigfd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) != 0)
		goto fail;
	ev.data.ptr = &l->o.listen_fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, o->listen_fd, &ev) != 0)
		goto fail;
	l->listening = true;

	/* threads serve requests at once, one more leads meanwhile. */
	l->workers = xcalloc(o->threads + 1, sizeof(*l->workers));
	for (unsigned i = 0; i < o->threads + 1; i++) {
		l->workers[i].l = l;
		l->workers[i].wait_gen = UINT64_MAX;
		if (pthread_create(&l->workers[i].tid, NULL,
		    fcgiloop_thread_run, &l->workers[i]) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "pthread_create failed");
			break;
		}
		l->nworkers++;
	}
	if (l->nworkers < 2) {
		fcgiloop_free(l);
		return NULL;
	}
	return l;
fail:
	wlog(WLOG_ERR, NULL, NULL, "fastcgi loop setup: %s", strerror(errno));
	fcgiloop_free(l);
	return NULL;
}

unsigned
fcgiloop_threads(const struct fcgiloop *l)
{
	return l->nworkers - 1;
}

void
fcgiloop_free(struct fcgiloop *l)
{
	struct fcgiloop_job *j, *next;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->st);
	l->pool_stop = true;
	fcgiloop_wake_all(l);
	pthread_mutex_unlock(&l->st);
	for (unsigned i = 0; i < l->nworkers; i++)
		pthread_join(l->workers[i].tid, NULL);
	free(l->workers);
	/* No thread waits any more: fcgiloop_reap below frees every dead
	 * connection. */
	l->workers = NULL;
	l->nworkers = 0;
	/* Jobs never served: their connections are freed below. */
	for (j = l->queue; j; j = next) {
		next = j->next;
		j->conn->job = NULL;
		fcgiloop_job_free(j);
	}
	fcgiloop_reap(l);
	while (l->conns) {
		struct fcgiloop_conn *c = l->conns;

		l->conns = c->next;
		fcgiloop_conn_release(c);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->evfd >= 0)
		close(l->evfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	pthread_mutex_destroy(&l->st);
	pthread_cond_destroy(&l->end_cv);
	free(l);
}
