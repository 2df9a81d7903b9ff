/*
 * fcgiloop_conn — the connections of the FastCGI loop (fcgiloop.h):
 * accepting, reading records into the parser, writing answers and
 * management replies, deadlines, closing. Every function here runs with
 * l->st held (see fcgiloop.c on ownership: a closed connection is freed
 * only by fcgiloop_reap, or when its job comes back).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fcgiloop.h"
#include "fcgiloop_int.h"
#include "wlog.h"
#include "xalloc.h"

/* Whether c's socket should also wake us when writable. */
enum fcgiloop_out {
	FCGILOOP_OUT_NONE,
	FCGILOOP_OUT_WANTED
};

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

void
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
void
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
void
fcgiloop_arm(struct fcgiloop *l, struct fcgiloop_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT |
	    (c->want_out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->fd >= 0 && !c->dead)
		epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Closes the socket; frees c unless its job is still out. */
void
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
fcgiloop_want_out(struct fcgiloop *l, struct fcgiloop_conn *c,
    enum fcgiloop_out want)
{
	bool on = want == FCGILOOP_OUT_WANTED;

	if (c->want_out == on)
		return;
	c->want_out = on;
	fcgiloop_arm(l, c);
}

/* Writes what is queued: management replies between records, the
 * response's records. Returns false if c was closed. */
bool
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
				fcgiloop_want_out(l, c, FCGILOOP_OUT_WANTED);
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
	fcgiloop_want_out(l, c, FCGILOOP_OUT_NONE);
	if (c->close_after || (l->stopping && fcgiloop_conn_quiet(c))) {
		fcgiloop_conn_close(l, c);
		return false;
	}
	return true;
}

/* Makes a job of the request c completed. Takes ownership of req (the
 * job owns it until it is served). */
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

void
fcgiloop_enqueue(struct fcgiloop *l, struct fcgiloop_job *job)
{
	job->next = NULL;
	if (l->queue_tail)
		l->queue_tail->next = job;
	else
		l->queue = job;
	l->queue_tail = job;
}

void
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
void
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

void
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
void
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
void
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
