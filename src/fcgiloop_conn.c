/*
 * fcgiloop_conn — the connections of the FastCGI loop (fcgiloop.h):
 * accepting, reading records into the parser, writing answers and
 * management replies, deadlines, closing. Every function here runs on
 * the thread of the connection's shard (see fcgiloop.c on ownership: a
 * closed connection is freed at the end of the turn, or when its job
 * comes back).
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

void
fcgiloop_src_defer(struct fcgiloop_shard *s, struct fcgiloop_src *src)
{
	src->dead = true;
	src->dead_next = s->dead;
	s->dead = src;
}

/* Unlinks c; it is freed at the end of the turn (an event already taken
 * from the kernel may still name it). */
static void
fcgiloop_conn_free(struct fcgiloop_shard *s, struct fcgiloop_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	fcgiloop_src_defer(s, &c->src);
	s->nconns--;
	atomic_fetch_sub(&s->l->nconns, 1);
	if (!s->listening && !s->stopping)
		fcgiloop_listen(s, true);
}

static void
fcgiloop_conn_release(struct fcgiloop_conn *c)
{
	if (c->src.fd >= 0)
		close(c->src.fd);
	fcgirec_parser_free(c->p);
	free(c->out_head);
	free(c->out_body);
	free(c);
}

void
fcgiloop_reap(struct fcgiloop_shard *s)
{
	while (s->dead != NULL) {
		struct fcgiloop_src *src = s->dead;

		s->dead = src->dead_next;
		/* Only connections die: curl's entries live as long as
		 * the shard. */
		fcgiloop_conn_release((struct fcgiloop_conn *)src);
	}
}

/* Registers what c waits for: always input, output while some is
 * queued. */
static void
fcgiloop_arm(struct fcgiloop_shard *s, struct fcgiloop_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN |
	    (c->want_out ? EPOLLOUT : 0), .data.ptr = &c->src };

	if (c->src.fd >= 0)
		epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->src.fd, &ev);
}

void
fcgiloop_conn_close(struct fcgiloop_shard *s, struct fcgiloop_conn *c)
{
	if (c->src.fd >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->src.fd, NULL);
		close(c->src.fd);
		c->src.fd = -1;
	}
	if (c->job != NULL) {
		c->aborted = true;
		return;
	}
	if (!c->src.dead)
		fcgiloop_conn_free(s, c);
}

static bool
fcgiloop_conn_quiet(const struct fcgiloop_conn *c)
{
	size_t rl;

	(void)fcgirec_reply(c->p, &rl);
	return c->src.fd >= 0 && c->job == NULL && !c->out_on && rl == 0 &&
	    fcgirec_idle(c->p);
}

static void
fcgiloop_want_out(struct fcgiloop_shard *s, struct fcgiloop_conn *c,
    enum fcgiloop_out want)
{
	bool on = want == FCGILOOP_OUT_WANTED;

	if (c->want_out == on)
		return;
	c->want_out = on;
	fcgiloop_arm(s, c);
}

/* Writes what is queued: management replies between records, the
 * response's records. Returns false if c was closed. */
bool
fcgiloop_flush(struct fcgiloop_shard *s, struct fcgiloop_conn *c)
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
		if (c->src.fd < 0)
			return false;
		n = writev(c->src.fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				fcgiloop_want_out(s, c, FCGILOOP_OUT_WANTED);
				return true;
			}
			wlog(WLOG_DEBUG, NULL, NULL, "fcgi write: %s",
			    strerror(errno));
			fcgiloop_conn_close(s, c);
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
	fcgiloop_want_out(s, c, FCGILOOP_OUT_NONE);
	if (c->close_after || (s->stopping && fcgiloop_conn_quiet(c))) {
		fcgiloop_conn_close(s, c);
		return false;
	}
	return true;
}

/* Makes a job of the request c completed; it is served once the event
 * is handled. Takes ownership of req. */
static void
fcgiloop_dispatch(struct fcgiloop_shard *s, struct fcgiloop_conn *c,
    struct fcgirec_req *req)
{
	struct fcgiloop_job *job = xcalloc(1, sizeof(*job));

	job->s = s;
	job->conn = c;
	job->id = req->id;
	job->req = req;
	c->job = job;
	c->served = true;
	c->keep_conn = req->keep_conn;
	c->aborted = false;
	job->next = s->ready;
	s->ready = job;
}

void
fcgiloop_on_read(struct fcgiloop_shard *s, struct fcgiloop_conn *c)
{
	ssize_t n;
	size_t off = 0, used;
	bool was_idle = fcgirec_idle(c->p);

	n = read(c->src.fd, s->rbuf, sizeof(s->rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The web server closed (or reset) the connection; a job
		 * still out is answered to nobody. */
		fcgiloop_conn_close(s, c);
		return;
	}
	c->last_io = fcgiloop_now();
	while (off < (size_t)n) {
		struct fcgirec_event ev;
		enum fcgirec_err e;

		e = fcgirec_feed(c->p, s->rbuf + off, (size_t)n - off, &used,
		    &ev);
		off += used;
		if (e != FCGIREC_OK) {
			wlog(WLOG_WARN, NULL, NULL, "fastcgi connection "
			    "closed: %s", fcgirec_strerror(e));
			fcgiloop_conn_close(s, c);
			return;
		}
		if (ev.kind == FCGIREC_EV_REQUEST) {
			fcgiloop_dispatch(s, c, fcgirec_take(c->p));
		} else if (ev.kind == FCGIREC_EV_ABORT) {
			if (ev.taken)
				c->aborted = true;
			else if (!ev.keep_conn)
				c->close_after = true;
		}
	}
	if (was_idle && !fcgirec_idle(c->p))
		c->head_start = c->last_io;
	(void)fcgiloop_flush(s, c);
}

/* A job came back: queue its answer (or just END_REQUEST if aborted). */
void
fcgiloop_on_done(struct fcgiloop_shard *s, struct fcgiloop_job *job)
{
	struct fcgiloop_conn *c = job->conn;

	c->job = NULL;
	if (c->src.fd < 0) {
		fcgiloop_job_free(job);
		fcgiloop_conn_free(s, c);
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
	(void)fcgiloop_flush(s, c);
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
 * connection of this shard. False when none is idle. */
static bool
fcgiloop_make_room(struct fcgiloop_shard *s)
{
	struct fcgiloop_conn *c, *oldest = NULL;

	for (c = s->conns; c != NULL; c = c->next)
		if (fcgiloop_conn_quiet(c) &&
		    (oldest == NULL || c->last_io < oldest->last_io))
			oldest = c;
	if (oldest == NULL)
		return false;
	fcgiloop_conn_close(s, oldest);
	return true;
}

void
fcgiloop_listen(struct fcgiloop_shard *s, bool on)
{
	struct fcgiloop *l = s->l;
	/* One of the shards waiting is woken per connection; level-
	 * triggered, so a backlog left by one is seen by the next. */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
	    .data.ptr = &s->listen_src };

	if (on == s->listening)
		return;
	if (on && epoll_ctl(s->epfd, EPOLL_CTL_ADD, l->o.listen_fd, &ev) != 0)
		return;
	if (!on)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, l->o.listen_fd, NULL);
	s->listening = on;
}

/* Takes one connection from the backlog into s. False when there is
 * none, or no room. */
static bool
fcgiloop_accept_one(struct fcgiloop_shard *s)
{
	struct fcgiloop *l = s->l;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct fcgiloop_conn *c;
	struct epoll_event ev;
	int fd;

	if (atomic_load(&l->nconns) >= l->lim.max_conns &&
	    !fcgiloop_make_room(s)) {
		/* Full of busy connections: new ones wait in the backlog
		 * until one closes. */
		fcgiloop_listen(s, false);
		return false;
	}
	fd = accept4(l->o.listen_fd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNABORTED)
			wlog(WLOG_WARN, NULL, NULL, "accept: %s",
			    strerror(errno));
		return false;
	}
	if (!fcgiloop_peer_allowed(l, &ss)) {
		wlog(WLOG_WARN, NULL, NULL, "connection from an address not "
		    "in FCGI_WEB_SERVER_ADDRS refused");
		close(fd);
		return true;
	}
	c = xcalloc(1, sizeof(*c));
	c->src.kind = FCGILOOP_SRC_CONN;
	c->src.fd = fd;
	c->p = fcgirec_parser_new(&l->lim);
	c->last_io = c->head_start = fcgiloop_now();
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	atomic_fetch_add(&l->nconns, 1);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &c->src;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "epoll_ctl: %s", strerror(errno));
		fcgiloop_conn_close(s, c);
	}
	return true;
}

void
fcgiloop_on_accept(struct fcgiloop_shard *s, int burst)
{
	for (int i = 0; i < burst && s->listening; i++)
		if (!fcgiloop_accept_one(s))
			break;
}

/* Deadlines, once a second: a slow head, a stalled body or response. */
void
fcgiloop_tick(struct fcgiloop_shard *s, int64_t now)
{
	struct fcgiloop_conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		size_t rl;

		next = c->next;
		if (c->src.fd < 0 || c->job != NULL)
			continue;
		(void)fcgirec_reply(c->p, &rl);
		if (fcgirec_in_head(c->p) &&
		    now - c->head_start > FCGILOOP_HEAD_MS) {
			wlog(WLOG_WARN, NULL, NULL, "fastcgi connection "
			    "closed: request head not complete in %d ms",
			    FCGILOOP_HEAD_MS);
			fcgiloop_conn_close(s, c);
		} else if ((!fcgirec_idle(c->p) || c->out_on || rl > 0) &&
		    now - c->last_io > FCGILOOP_STALL_MS) {
			wlog(WLOG_WARN, NULL, NULL, "fastcgi connection "
			    "closed: no progress in %d ms", FCGILOOP_STALL_MS);
			fcgiloop_conn_close(s, c);
		}
	}
}

/* While stopping: closes the quiet connections, except those with bytes
 * waiting to be read and, for FCGILOOP_STOP_GRACE_MS, fresh ones whose
 * first request may still be on its way (a web server that connected
 * just before the signal must not get a reset). */
void
fcgiloop_stop_sweep(struct fcgiloop_shard *s, int64_t now)
{
	struct fcgiloop_conn *c, *next;
	char b;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (!fcgiloop_conn_quiet(c))
			continue;
		if (!c->served && now - atomic_load(&s->l->stop_start) <
		    FCGILOOP_STOP_GRACE_MS)
			continue;
		if (recv(c->src.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
			continue;
		fcgiloop_conn_close(s, c);
	}
}
