/*
 * upstream — libcurl client toward the worker runtimes (see upstream.h).
 *
 * Ownership: struct upstream owns its multi handle, the batches running
 * in it and the idle easy handles of each runtime (a small pool: an easy
 * handle keeps options curl would otherwise rebuild, and one is needed
 * per call running at once). A batch owns its per-transfer state; a
 * struct upstream_call owns its path, body and answer buffer. While a call
 * runs, its easy handle points at its transfer (CURLOPT_PRIVATE) and at a
 * header list the transfer owns.
 *
 * Connection reuse: every transfer goes through the one multi handle of
 * this client (one per FastCGI loop thread), whose connection cache
 * outlives the transfers.
 *
 * Answer memory: the answer buffers of a client's batches, from their
 * first byte until the batch's done callback has run, count against one
 * budget (UPSTREAM_BUDGET_ANSWERS answers of the maximum size). A
 * transfer whose buffer would grow past it pauses (curl keeps the chunk
 * and stops reading its socket) and goes on, oldest first, when a batch
 * frees what it held. The oldest running batch never pauses, so some
 * batch always finishes: memory stays within the budget plus one
 * batch's answers, and a runtime that sends nothing holds nothing.
 *
 * This file: the client, its batches and the driving of the multi handle
 * (blocking in upstream_perform, or by an event loop's socket and timer
 * events). The easy handles and one transfer on them: upstream_easy.c.
 */
#include "upstream_int.h"

#include <curl/curl.h>
#include <stdlib.h>

#include "wlog.h"
#include "xalloc.h"

static int upstream_socket_cb(CURL *e, curl_socket_t s, int what, void *arg,
    void *slot);
static int upstream_timer_cb(CURLM *m, long ms, void *arg);

struct upstream *
upstream_new(const struct registry *reg)
{
	struct upstream *up = xcalloc(1, sizeof(*up));

	up->reg = reg;
	up->multi = curl_multi_init();
	if (up->multi == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "curl_multi_init failed");
		abort();
	}
	/* Keep idle connections to every runtime; with calls running at
	 * once, several per runtime. */
	curl_multi_setopt(up->multi, CURLMOPT_MAXCONNECTS,
	    (long)(reg->runtime_count * 8 + 8));
	up->budget = UPSTREAM_BUDGET_ANSWERS * reg->max_upstream_body_bytes;
	up->pool_count = reg->runtime_count;
	up->pool = xcalloc(up->pool_count ? up->pool_count : 1,
	    sizeof(*up->pool));
	return up;
}

void
upstream_attach(struct upstream *up, const struct upstream_hooks *h)
{
	up->hooks = *h;
	up->attached = true;
	curl_multi_setopt(up->multi, CURLMOPT_SOCKETFUNCTION,
	    upstream_socket_cb);
	curl_multi_setopt(up->multi, CURLMOPT_SOCKETDATA, up);
	curl_multi_setopt(up->multi, CURLMOPT_TIMERFUNCTION,
	    upstream_timer_cb);
	curl_multi_setopt(up->multi, CURLMOPT_TIMERDATA, up);
}

size_t
upstream_running(const struct upstream *up)
{
	return up->running;
}

void
upstream_free(struct upstream *up)
{
	if (up == NULL)
		return;
	while (up->batches != NULL)
		upstream_cancel(up, up->batches);
	for (size_t i = 0; i < up->pool_count; i++)
		upstream_pool_clear(&up->pool[i]);
	free(up->pool);
	curl_multi_cleanup(up->multi);
	free(up);
}

/* Makes a batch of the n calls and adds its transfers to the multi
 * handle. */
static struct upstream_batch *
upstream_batch_new(struct upstream *up, struct upstream_call *calls,
    size_t n, const char *request_id)
{
	struct upstream_batch *b = xcalloc(1, sizeof(*b));

	b->xs = xcalloc(n, sizeof(*b->xs));
	b->up = up;
	b->n = b->left = n;
	b->next = up->batches;
	if (up->batches != NULL)
		up->batches->prev = b;
	else
		up->oldest = b;
	up->batches = b;
	up->running++;
	for (size_t i = 0; i < n; i++) {
		struct upstream_xfer *x = &b->xs[i];
		struct upstream_call *c = &calls[i];

		x->b = b;
		x->call = c;
		x->cap = up->reg->max_upstream_body_bytes;
		c->err = UPSTREAM_OK;
		c->status = 0;
		c->cert_expires = 0;
		c->usec = 0;
		c->detail[0] = '\0';
		free(c->resp);
		c->resp = NULL;
		c->resp_len = 0;
		x->easy = upstream_easy_get(up, c->rt);
		upstream_setup(up, x, request_id);
	}
	/* Added last: with hooks, adding can already call back. */
	for (size_t i = 0; i < n; i++)
		curl_multi_add_handle(up->multi, b->xs[i].easy);
	return b;
}

/* ---- the answer budget ------------------------------------------- */

bool
upstream_may_hold(const struct upstream *up, const struct upstream_xfer *x,
    size_t grow)
{
	return up->held + grow <= up->budget || x->b == up->oldest;
}

void
upstream_hold(struct upstream *up, struct upstream_xfer *x, size_t grow)
{
	up->held += grow;
	x->b->held += grow;
}

void
upstream_pause_add(struct upstream *up, struct upstream_xfer *x)
{
	x->paused = x->was_paused = true;
	x->paused_next = NULL;
	if (up->paused_tail != NULL)
		up->paused_tail->paused_next = x;
	else
		up->paused = x;
	up->paused_tail = x;
}

void
upstream_pause_remove(struct upstream *up, struct upstream_xfer *x)
{
	struct upstream_xfer **pp, *prev = NULL;

	for (pp = &up->paused; *pp != NULL; prev = *pp, pp = &prev->paused_next)
		if (*pp == x) {
			*pp = x->paused_next;
			if (up->paused_tail == x)
				up->paused_tail = prev;
			break;
		}
	x->paused = false;
	x->paused_next = NULL;
}

/* Lets paused transfers go on, oldest first, where the budget (or their
 * batch being the oldest) allows. Each is looked at once: one that
 * pauses again at once (curl hands it the data it kept) goes back to
 * the end. Never from inside a curl call. */
static void
upstream_resume(struct upstream *up)
{
	struct upstream_xfer *x = up->paused;

	up->paused = up->paused_tail = NULL;
	while (x != NULL) {
		struct upstream_xfer *next = x->paused_next;

		if (up->held < up->budget || x->b == up->oldest) {
			x->paused = false;
			x->paused_next = NULL;
			curl_easy_pause(x->easy, CURLPAUSE_CONT);
		} else {
			upstream_pause_add(up, x);
		}
		x = next;
	}
}

/* ---- batches ------------------------------------------------------ */

/* Unlinks b and releases its transfers (b itself is freed by the
 * caller). */
static void
upstream_batch_end(struct upstream *up, struct upstream_batch *b)
{
	if (b->prev != NULL)
		b->prev->next = b->next;
	else if (up->batches == b)
		up->batches = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	if (up->oldest == b)
		up->oldest = b->prev;
	b->prev = b->next = NULL;
	up->running--;
	for (size_t i = 0; i < b->n; i++)
		if (b->xs[i].easy != NULL)
			upstream_xfer_release(up, &b->xs[i]);
}

/* Frees b; what its answers held goes back to the budget (their
 * buffers are freed by now, or by the done callback about to run). */
static void
upstream_batch_free(struct upstream *up, struct upstream_batch *b)
{
	up->held -= b->held;
	free(b->xs);
	free(b);
}

/* Takes the finished transfers from curl; a batch whose last call ended
 * moves to up->finished. */
static void
upstream_collect(struct upstream *up)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(up->multi, &left)) != NULL) {
		struct upstream_xfer *x = NULL;
		struct upstream_batch *b;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		if (x == NULL || x->done)
			continue;
		upstream_finish(x, msg->data.result);
		b = x->b;
		/* Its handle goes back at once: curl may reuse the
		 * connection for the next call. */
		upstream_xfer_release(up, x);
		if (--b->left > 0)
			continue;
		upstream_batch_end(up, b);
		b->next = up->finished;
		up->finished = b;
	}
}

/* Runs the done callbacks of finished batches (outside any curl call, so
 * a callback may start or cancel batches). */
static void
upstream_run_done(struct upstream *up)
{
	while (up->finished != NULL) {
		struct upstream_batch *b = up->finished;
		upstream_done_fn done = b->done;
		void *arg = b->arg;

		up->finished = b->next;
		upstream_batch_free(up, b);
		if (done != NULL)
			done(arg);
	}
	if (up->paused != NULL)
		upstream_resume(up);
}

void
upstream_perform(struct upstream *up, struct upstream_call *calls, size_t n,
    const char *request_id)
{
	struct upstream_batch *b;
	int running = 0;

	if (n == 0)
		return;
	b = upstream_batch_new(up, calls, n, request_id);
	do {
		CURLMcode mc = curl_multi_perform(up->multi, &running);

		upstream_collect(up);
		if (mc != CURLM_OK) {
			wlog(WLOG_ERR, request_id, NULL, "curl multi: %s",
			    curl_multi_strerror(mc));
			break;
		}
		if (b->left > 0 && running > 0)
			curl_multi_poll(up->multi, NULL, 0, 1000, NULL);
	} while (b->left > 0 && running > 0);
	if (b->left > 0) {
		upstream_batch_end(up, b);
		upstream_batch_free(up, b);
	} else {
		upstream_cancel(up, b);	/* takes it off up->finished */
	}
}

struct upstream_batch *
upstream_start(struct upstream *up, struct upstream_call *calls, size_t n,
    const char *request_id, upstream_done_fn done, void *arg)
{
	struct upstream_batch *b = upstream_batch_new(up, calls, n,
	    request_id);
	int running;

	b->done = done;
	b->arg = arg;
	/* Start now (connect, or send on a kept connection) instead of a
	 * turn of the loop later; the timer curl asked for while adding
	 * stays armed and is harmless. */
	curl_multi_socket_action(up->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	/* A batch that ended already (say, a refused connection) waits
	 * for upstream_dispatch: done never runs in here. */
	upstream_collect(up);
	return b;
}

bool
upstream_dispatch(struct upstream *up)
{
	if (up->finished == NULL)
		return false;
	upstream_run_done(up);
	return true;
}

void
upstream_cancel(struct upstream *up, struct upstream_batch *b)
{
	struct upstream_batch **pp;

	for (pp = &up->finished; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b)
			break;
	if (*pp != NULL)
		*pp = b->next;
	else
		upstream_batch_end(up, b);
	upstream_batch_free(up, b);
	if (up->paused != NULL)
		upstream_resume(up);
}

void
upstream_on_socket(struct upstream *up, int fd, unsigned what, bool err)
{
	int mask = 0, running;

	if (what & UPSTREAM_WATCH_IN)
		mask |= CURL_CSELECT_IN;
	if (what & UPSTREAM_WATCH_OUT)
		mask |= CURL_CSELECT_OUT;
	if (err)
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(up->multi, fd, mask, &running);
	upstream_collect(up);
	upstream_run_done(up);
}

void
upstream_on_timer(struct upstream *up)
{
	int running;

	curl_multi_socket_action(up->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	upstream_collect(up);
	upstream_run_done(up);
}

static int
upstream_socket_cb(CURL *e, curl_socket_t s, int what, void *arg, void *slot)
{
	struct upstream *up = arg;
	unsigned w = 0;
	void *p = slot;

	(void)e;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		w |= UPSTREAM_WATCH_IN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		w |= UPSTREAM_WATCH_OUT;
	up->hooks.watch(up->hooks.arg, (int)s, w, &p);
	if (what != CURL_POLL_REMOVE && p != slot)
		curl_multi_assign(up->multi, s, p);
	return 0;
}

static int
upstream_timer_cb(CURLM *m, long ms, void *arg)
{
	struct upstream *up = arg;

	(void)m;
	up->hooks.timer(up->hooks.arg, ms);
	return 0;
}
