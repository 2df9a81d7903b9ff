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
 *
 * This file: the pool and the epoll set (start, waiting, signals, the
 * stop); connection I/O is fcgiloop_conn.c's, serving one request
 * fcgiloop_serve.c's. All three share fcgiloop_int.h.
 */
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
#include <time.h>
#include <unistd.h>

#include "fcgiloop.h"
#include "fcgiloop_int.h"
#include "upstream.h"
#include "wlog.h"
#include "xalloc.h"

int64_t
fcgiloop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
