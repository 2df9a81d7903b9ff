/*
 * fcgiloop — the event loops of wrg.fcgi (contract in fcgiloop.h, design
 * in docs/fcgi.md).
 *
 * Shards: each thread is one single-threaded event loop with its own
 * epoll set, its own connections and its own runtime client (a curl multi
 * handle whose sockets and timer live in the same epoll set, through
 * upstream_attach). Every shard waits on the listening socket
 * (EPOLLEXCLUSIVE: one is woken per connection); a connection belongs to
 * the shard that accepted it for its whole life. A request is read,
 * handled, sent to its runtime, and answered on that one thread without
 * ever blocking it: while a runtime thinks, the shard serves others, and
 * one epoll_wait hands it every ready web server and runtime socket at
 * once (docs/bench.md measures what that saves). The process' main thread
 * only takes signals and waits for the shards to end.
 *
 * Ownership: a shard's state is touched only by its thread; what the
 * shards share (the connection count, the stop) is atomic. A closed
 * connection (or curl socket) is freed at the end of its shard's turn,
 * as an event already taken from the kernel may still name it. A job
 * (one complete request) owns the request, its handler task and calls,
 * and once answered the response buffers. A connection whose web server
 * left while its job was out is closed at once but freed only when the
 * job comes back.
 *
 * This file: the shards (start, the turn of the loop, the stop) and the
 * main thread; connection I/O is fcgiloop_conn.c's, serving one request
 * fcgiloop_serve.c's. All three share fcgiloop_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

static void
fcgiloop_notify(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		wlog(WLOG_ERR, NULL, NULL, "eventfd write: %s",
		    strerror(errno));
}

/* The entry for descriptor fd (made on first use). */
static struct fcgiloop_csock *
fcgiloop_csock(struct fcgiloop_shard *s, int fd)
{
	if ((size_t)fd >= s->ncsocks) {
		size_t n = s->ncsocks ? s->ncsocks : 64;

		while (n <= (size_t)fd)
			n *= 2;
		s->csocks = xrealloc(s->csocks, n * sizeof(*s->csocks));
		memset(s->csocks + s->ncsocks, 0,
		    (n - s->ncsocks) * sizeof(*s->csocks));
		s->ncsocks = n;
	}
	if (s->csocks[fd] == NULL) {
		s->csocks[fd] = xcalloc(1, sizeof(**s->csocks));
		s->csocks[fd]->src.kind = FCGILOOP_SRC_CURL;
	}
	return s->csocks[fd];
}

/* upstream_hooks.watch: a curl socket joins, changes or leaves the
 * shard's epoll set. Only a change costs a system call. */
static void
fcgiloop_curl_watch(void *arg, int fd, unsigned what, void **slot)
{
	struct fcgiloop_shard *s = arg;
	struct fcgiloop_csock *cs = fcgiloop_csock(s, fd);
	struct epoll_event ev;

	*slot = cs;
	cs->src.fd = fd;
	cs->parked = false;
	if (what == 0) {
		if (cs->conn && cs->in_epoll) {
			cs->parked = true;
			return;
		}
		/* Not a connection (the resolver's socket pair), and about
		 * to be closed: a closed descriptor leaves epoll by itself,
		 * but a number reused later must not be taken as still
		 * registered. */
		if (cs->in_epoll)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
		cs->in_epoll = false;
		cs->src.fd = -1;
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = (what & UPSTREAM_WATCH_IN ? EPOLLIN : 0) |
	    (what & UPSTREAM_WATCH_OUT ? EPOLLOUT : 0);
	ev.data.ptr = &cs->src;
	if (cs->in_epoll && cs->events == ev.events)
		return;
	if (epoll_ctl(s->epfd, cs->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    fd, &ev) != 0 && epoll_ctl(s->epfd, cs->in_epoll ?
	    EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "epoll_ctl (runtime socket): %s",
		    strerror(errno));
		return;
	}
	cs->in_epoll = true;
	cs->events = ev.events;
}

/* upstream_hooks.conn_socket: curl opened or is closing a runtime
 * connection. Closing takes it out of epoll (as its last descriptor). */
static void
fcgiloop_curl_conn(void *arg, int fd, bool open)
{
	struct fcgiloop_shard *s = arg;
	struct fcgiloop_csock *cs = fcgiloop_csock(s, fd);

	cs->conn = open;
	cs->in_epoll = false;
	cs->parked = false;
	cs->src.fd = open ? fd : -1;
}

/* upstream_hooks.timer */
static void
fcgiloop_curl_timer(void *arg, long ms)
{
	struct fcgiloop_shard *s = arg;

	s->curl_deadline = ms < 0 ? -1 : fcgiloop_now() + ms;
}

static void
fcgiloop_shard_begin_stop(struct fcgiloop_shard *s)
{
	/* Take what is already in the backlog: those web servers have
	 * connected and may be sending a request. */
	fcgiloop_on_accept(s, FCGILOOP_ACCEPT_BURST);
	fcgiloop_listen(s, false);
	s->stopping = true;
	fcgiloop_stop_sweep(s, fcgiloop_now());
}

/* At the stop limit: every connection is closed, requests still waiting
 * for a runtime are cut. */
static void
fcgiloop_shard_cut(struct fcgiloop_shard *s)
{
	/* Every waiting job belongs to a connection cut below. */
	s->wait_head = s->wait_tail = NULL;
	while (s->conns != NULL) {
		struct fcgiloop_conn *c = s->conns;
		struct fcgiloop_job *job = c->job;

		if (job != NULL) {
			fcgiloop_job_cut(s, job);
			c->job = NULL;
			atomic_fetch_add(&s->l->cut, 1);
			fcgiloop_job_free(job);
		}
		fcgiloop_conn_close(s, c);
	}
}

/* While stopping: whether this shard is done. */
static bool
fcgiloop_shard_stop_check(struct fcgiloop_shard *s)
{
	int64_t now = fcgiloop_now();

	fcgiloop_stop_sweep(s, now);
	if (s->nconns == 0)
		return true;
	if (now > atomic_load(&s->l->stop_deadline)) {
		fcgiloop_shard_cut(s);
		return true;
	}
	return false;
}

static void
fcgiloop_shard_event(struct fcgiloop_shard *s, const struct epoll_event *ev)
{
	struct fcgiloop_src *src = ev->data.ptr;
	struct fcgiloop_csock *cs;
	struct fcgiloop_conn *c;
	uint64_t v;

	/* Closed in this turn: the event came before. */
	if (src->dead || src->fd < 0)
		return;
	switch (src->kind) {
	case FCGILOOP_SRC_LISTEN:
		/* One connection per wake-up when other shards can take
		 * the rest, so kept connections spread over the threads. */
		if (s->listening && !s->stopping)
			fcgiloop_on_accept(s, s->l->nshards > 1 ? 1 :
			    FCGILOOP_ACCEPT_BURST);
		return;
	case FCGILOOP_SRC_WAKE:
		while (read(s->evfd, &v, sizeof(v)) > 0)
			;
		if (atomic_load(&s->l->stopping) && !s->stopping)
			fcgiloop_shard_begin_stop(s);
		return;
	case FCGILOOP_SRC_CURL:
		cs = (struct fcgiloop_csock *)src;
		if (cs->parked) {
			/* An idle runtime connection closed or spoke: curl
			 * finds out when it next takes it. */
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, src->fd, NULL);
			cs->in_epoll = cs->parked = false;
			return;
		}
		upstream_on_socket(s->ctx.up, src->fd,
		    (ev->events & EPOLLIN ? UPSTREAM_WATCH_IN : 0) |
		    (ev->events & EPOLLOUT ? UPSTREAM_WATCH_OUT : 0),
		    (ev->events & (EPOLLERR | EPOLLHUP)) != 0);
		return;
	case FCGILOOP_SRC_CONN:
		break;
	}
	c = (struct fcgiloop_conn *)src;
	if (ev->events & EPOLLOUT) {
		/* Writable (or error): flush; a reset shows up as a write
		 * error. */
		if (fcgiloop_flush(s, c) &&
		    (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			fcgiloop_on_read(s, c);
	} else {
		fcgiloop_on_read(s, c);
	}
	/* One connection completes one request at a time: at most one. */
	while (s->ready != NULL) {
		struct fcgiloop_job *job = s->ready;

		s->ready = job->next;
		job->next = NULL;
		fcgiloop_serve(s, job);
	}
}

/* How long the next epoll_wait may sleep. */
static int
fcgiloop_shard_timeout(const struct fcgiloop_shard *s, int64_t now)
{
	int64_t t = s->stopping ? 100 : FCGILOOP_TICK_MS - (now - s->last_tick);

	if (t < 0)
		t = 0;
	if (s->curl_deadline >= 0 && s->curl_deadline - now < t)
		t = s->curl_deadline > now ? s->curl_deadline - now : 0;
	return (int)t;
}

/* One turn: wait, handle every event, then the timer and deadlines.
 * False when the shard has ended. */
static bool
fcgiloop_shard_turn(struct fcgiloop_shard *s)
{
	struct epoll_event evs[FCGILOOP_EVENTS];
	int64_t now = fcgiloop_now();
	int n;

	n = epoll_wait(s->epfd, evs, FCGILOOP_EVENTS,
	    fcgiloop_shard_timeout(s, now));
	if (n < 0 && errno != EINTR) {
		wlog(WLOG_ERR, NULL, NULL, "epoll_wait: %s", strerror(errno));
		return false;
	}
	for (int i = 0; i < n; i++)
		fcgiloop_shard_event(s, &evs[i]);
	now = fcgiloop_now();
	if (s->curl_deadline >= 0 && now >= s->curl_deadline) {
		s->curl_deadline = -1;
		upstream_on_timer(s->ctx.up);
	}
	upstream_dispatch(s->ctx.up);
	if (now - s->last_tick >= FCGILOOP_TICK_MS) {
		s->last_tick = now;
		fcgiloop_tick(s, now);
	}
	if (s->stopping && fcgiloop_shard_stop_check(s)) {
		fcgiloop_reap(s);
		return false;
	}
	fcgiloop_reap(s);
	return !atomic_load(&s->l->quit);
}

static void *
fcgiloop_shard_run(void *arg)
{
	struct fcgiloop_shard *s = arg;
	struct upstream_hooks hooks = { fcgiloop_curl_watch,
	    fcgiloop_curl_timer, fcgiloop_curl_conn, s };

	s->ctx.up = upstream_new(s->l->o.reg);
	upstream_attach(s->ctx.up, &hooks);
	/* A stop that came before this thread ran is on the eventfd. */
	while (fcgiloop_shard_turn(s))
		;
	fcgiloop_shard_cut(s);
	fcgiloop_reap(s);
	upstream_free(s->ctx.up);
	s->ctx.up = NULL;
	for (size_t i = 0; i < s->ncsocks; i++)
		free(s->csocks[i]);
	free(s->csocks);
	s->csocks = NULL;
	s->ncsocks = 0;
	fcgiloop_notify(s->l->donefd);
	return NULL;
}

static void
fcgiloop_begin_stop(struct fcgiloop *l)
{
	int64_t now = fcgiloop_now();

	wlog(WLOG_INFO, NULL, NULL, "shutting down");
	atomic_store(&l->stop_start, now);
	atomic_store(&l->stop_deadline, now + l->o.stop_limit_ms);
	atomic_store(&l->stopping, true);
	for (unsigned i = 0; i < l->nshards; i++)
		fcgiloop_notify(l->shards[i].evfd);
}

/* The main thread: signals in, shard ends counted. */
enum fcgiloop_err
fcgiloop_run(struct fcgiloop *l)
{
	unsigned ended = 0;

	while (ended < l->nshards) {
		struct pollfd pf[2] = { { l->sigfd, POLLIN, 0 },
		    { l->donefd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		uint64_t v;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			wlog(WLOG_ERR, NULL, NULL, "poll: %s", strerror(errno));
			return FCGILOOP_SYS;
		}
		while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				/* The config is read once at start; reload
				 * is a restart by the web server or
				 * systemd. */
				wlog(WLOG_INFO, NULL, NULL, "SIGHUP ignored: "
				    "restart to reload the config");
				continue;
			}
			if (!atomic_load(&l->stopping))
				fcgiloop_begin_stop(l);
		}
		if (read(l->donefd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			ended += (unsigned)v;
	}
	if (atomic_load(&l->cut) > 0)
		wlog(WLOG_WARN, NULL, NULL, "%u request(s) still waiting for a "
		    "runtime were cut at the stop limit (%ld ms)",
		    atomic_load(&l->cut), l->o.stop_limit_ms);
	return atomic_load(&l->stopping) ? FCGILOOP_OK : FCGILOOP_SYS;
}

/* Half the descriptors the process may open (RLIMIT_NOFILE; 1024 when
 * unknown): FastCGI connections get one half, runtime calls the other. */
static rlim_t
fcgiloop_half_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		return rl.rlim_cur / 2;
	return 512;
}

static unsigned
fcgiloop_default_max_conns(void)
{
	rlim_t n = fcgiloop_half_nofile();

	if (n > 4096)
		n = 4096;
	return n < 16 ? 16 : (unsigned)n;
}

/* Runtime calls in flight per shard: an equal share of the descriptors
 * FastCGI connections leave. */
static size_t
fcgiloop_max_calls(unsigned nshards)
{
	rlim_t n = fcgiloop_half_nofile() / nshards;

	if (n < FCGILOOP_MIN_CALLS)
		return FCGILOOP_MIN_CALLS;
	return n > FCGILOOP_MAX_CALLS ? FCGILOOP_MAX_CALLS : (size_t)n;
}

static bool
fcgiloop_shard_init(struct fcgiloop *l, struct fcgiloop_shard *s)
{
	struct epoll_event ev;

	s->l = l;
	s->evfd = -1;
	s->curl_deadline = -1;
	s->last_tick = fcgiloop_now();
	s->ctx.reg = l->o.reg;
	s->ctx.rts = l->o.rts;
	s->ctx.metrics = l->o.metrics;
	s->listen_src.kind = FCGILOOP_SRC_LISTEN;
	s->listen_src.fd = l->o.listen_fd;
	s->wake_src.kind = FCGILOOP_SRC_WAKE;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->epfd < 0 || s->evfd < 0)
		return false;
	s->wake_src.fd = s->evfd;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &s->wake_src;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &ev) != 0)
		return false;
	fcgiloop_listen(s, true);
	return s->listening;
}

struct fcgiloop *
fcgiloop_new(const struct fcgiloop_opts *o)
{
	struct fcgiloop *l = xcalloc(1, sizeof(*l));
	unsigned want = o->threads ? o->threads : 1;
	sigset_t set;
	int flags;

	if (want > FCGILOOP_MAX_SHARDS)
		want = FCGILOOP_MAX_SHARDS;
	l->o = *o;
	l->sigfd = l->donefd = -1;
	l->lim.max_params_bytes = FCGILOOP_MAX_PARAMS;
	l->lim.max_body_bytes = o->reg->max_request_body_bytes;
	l->lim.max_conns = o->max_conns ? o->max_conns :
	    fcgiloop_default_max_conns();
	l->max_calls = fcgiloop_max_calls(want);
	l->allowed_addrs = getenv("FCGI_WEB_SERVER_ADDRS");
	if (l->allowed_addrs != NULL && l->allowed_addrs[0] == '\0')
		l->allowed_addrs = NULL;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	flags = fcntl(o->listen_fd, F_GETFL);
	if (flags < 0 || fcntl(o->listen_fd, F_SETFL, flags | O_NONBLOCK) != 0)
		goto fail;
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	l->donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->sigfd < 0 || l->donefd < 0)
		goto fail;
	l->shards = xcalloc(want, sizeof(*l->shards));
	for (unsigned i = 0; i < want; i++)
		l->shards[i].epfd = l->shards[i].evfd = -1;
	l->nshards = want;
	for (unsigned i = 0; i < want; i++)
		if (!fcgiloop_shard_init(l, &l->shards[i]))
			goto fail;
	for (unsigned i = 0; i < want; i++) {
		if (pthread_create(&l->shards[i].tid, NULL,
		    fcgiloop_shard_run, &l->shards[i]) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "pthread_create failed");
			fcgiloop_free(l);
			return NULL;
		}
		l->shards[i].started = true;
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
	return l->nshards;
}

void
fcgiloop_free(struct fcgiloop *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->quit, true);
	for (unsigned i = 0; i < l->nshards; i++)
		fcgiloop_notify(l->shards[i].evfd);
	for (unsigned i = 0; i < l->nshards; i++) {
		struct fcgiloop_shard *s = &l->shards[i];

		if (s->started)
			pthread_join(s->tid, NULL);
		if (s->epfd >= 0)
			close(s->epfd);
		if (s->evfd >= 0)
			close(s->evfd);
	}
	free(l->shards);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->donefd >= 0)
		close(l->donefd);
	free(l);
}
