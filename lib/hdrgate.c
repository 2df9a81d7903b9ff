/*
 * hdrgate — looks at each new connection's request head before lws does,
 * without reading it (MSG_PEEK), and answers it (400/408/431) or gives
 * the untouched socket to the HTTP vhost (see hdrgate.h).
 *
 * How: the listening vhost's one protocol gets
 * LWS_CALLBACK_FILTER_NETWORK_CONNECTION for every accepted socket. The
 * gate keeps a duplicate of the descriptor and returns non-zero, so lws
 * closes its own copy (a plain close(), roles/listen/ops-listen.c) and
 * never adopts it. A per-connection lws_sul timer then peeks at the
 * socket: at once, then with a short backoff while the head is
 * incomplete, until the deadline. A clean head is handed on with
 * lws_adopt_socket_vhost() (then given the opaque data the program made
 * of the head, hdrgate_set_on_pass) and lws reads it from the socket as
 * if it had accepted the connection itself. (Handing lws bytes already read, with
 * lws_adopt_socket_vhost_readbuf, is broken in 4.1.6 for requests with a
 * body: lws_http_action() feeds the buffered head to the body parser
 * again and loops.) A refused head is answered with one small send(),
 * the socket half-closed, and the peer's unread bytes drained until it
 * closes or a second passes, so the answer is not lost to a reset.
 *
 * These sockets are the gate's, not lws connections: the gate writes and
 * closes them itself, from its timers, on the service thread.
 *
 * Ownership: struct hdrgate (the caller's) owns the list of pending
 * connections and the peek buffer. A pending connection owns its
 * descriptor until it is closed or handed to lws (which then owns it,
 * also when the adoption fails). Pending connections left when the
 * listening vhost is destroyed are closed at PROTOCOL_DESTROY, those
 * left after the context is gone by hdrgate_free().
 */
#include "hdrgate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hdrscan.h"
#include "wlog.h"
#include "xalloc.h"

#define HDRGATE_PROTOCOL "wrg-hdrgate"
/* After an answer: how long the peer may take to read it and close. */
#define HDRGATE_LINGER_MS 1000
/* Peek again this long after an incomplete head (us), the last one
 * repeating until the deadline. Clients usually send their head right
 * after connecting: the first steps are short. */
static const unsigned hdrgate_backoff_us[] = { 100, 200, 300, 400, 500,
    750, 1000, 1500, 2000, 4000, 8000, 16000, 32000, 64000, 100000 };
/* Connections whose head is being looked at (or answered) at once: a
 * quarter of the descriptor limit, at most this; past it new ones are
 * closed at accept (each holds a descriptor for up to
 * HDRGATE_TIMEOUT_MS + HDRGATE_LINGER_MS). */
#define HDRGATE_MAX_PENDING 1024
/* lws stores each known header and query argument in one of
 * WSI_TOKEN_COUNT fragments; keep a head well under that. */
#define HDRGATE_MAX_FIELDS (WSI_TOKEN_COUNT - 8)

struct hdrgate {
	struct lws_protocols protocols[2];
	struct hdrscan_lexicon *lx;
	struct hdrscan_limits lim;
	struct lws_vhost *target;
	struct lws_context *ctx;
	char *peek;			/* lim.max_bytes + 1 */
	lws_dll2_owner_t conns;
	hdrgate_pass_fn on_pass;	/* opaque data for a passed head */
	void (*free_opaque)(void *);
	void *pass_arg;
	unsigned max_pending;
	bool full_logged;		/* max_pending reached */
};

enum gate_state { GATE_PEEKING, GATE_DRAINING };

struct gate_conn {
	lws_dll2_t list;
	lws_sorted_usec_list_t sul;
	struct hdrgate *g;
	int fd;
	enum gate_state state;
	unsigned tries;
	size_t scanned;
	lws_usec_t deadline;
};

static const char *
gate_body(unsigned status)
{
	switch (status) {
	case 408:
		return "{\"error\":{\"code\":\"request_timeout\",\"message\":"
		    "\"The request head did not arrive in time.\"}}";
	case 431:
		return "{\"error\":{\"code\":\"request_too_large\","
		    "\"message\":\"The request headers are too large.\"}}";
	default:
		return "{\"error\":{\"code\":\"invalid_request\",\"message\":"
		    "\"The request has a malformed header line or a header "
		    "name this server cannot read.\"}}";
	}
}

static const char *
gate_reason(unsigned status)
{
	switch (status) {
	case 408:
		return "Request Timeout";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Bad Request";
	}
}

static void gate_timer(lws_sorted_usec_list_t *sul);

static void
gate_close(struct gate_conn *c)
{
	lws_sul_cancel(&c->sul);
	lws_dll2_remove(&c->list);
	close(c->fd);
	free(c);
}

static void
gate_schedule(struct gate_conn *c, lws_usec_t us)
{
	lws_sul_schedule(c->g->ctx, 0, &c->sul, gate_timer, us);
}

/* Sends the answer (it fits any fresh socket's send buffer; a peer that
 * has gone only makes the send fail), half-closes and starts draining. */
static void
gate_answer(struct gate_conn *c, unsigned status)
{
	const char *body = gate_body(status);
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %u %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, gate_reason(status),
	    strlen(body), body);
	if (n > 0 && (size_t)n < sizeof(buf) &&
	    send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		wlog(WLOG_DEBUG, NULL, NULL, "gate: send: %s",
		    strerror(errno));
	shutdown(c->fd, SHUT_WR);
	c->state = GATE_DRAINING;
	c->deadline = lws_now_usecs() + HDRGATE_LINGER_MS * LWS_US_PER_MS;
	c->tries = 0;
	gate_schedule(c, 0);
}

/* Reads and drops what the peer sends after an answer; closes at its
 * EOF or the deadline. */
static void
gate_drain(struct gate_conn *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) || lws_now_usecs() >= c->deadline) {
		gate_close(c);
		return;
	}
	gate_schedule(c, 20 * LWS_US_PER_MS);
}

/* Gives the socket to the HTTP vhost, untouched, with the opaque data
 * the program made of its head (g->peek[0..end)). Set after the
 * adoption: lws parses nothing inside it (the head is read from the
 * socket at the next service), and a failed adoption never saw the
 * opaque data, so it is freed here exactly once. (Passing it to
 * lws_adopt_descriptor_vhost_via_info instead would have lws 4.1's
 * failure path close the wsi, and the program's WSI_DESTROY free it,
 * before the NULL return: a double free.) */
static void
gate_pass(struct gate_conn *c, size_t end)
{
	struct hdrgate *g = c->g;
	void *opaque;
	struct lws *wsi;
	int fd = c->fd;

	opaque = g->on_pass != NULL ?
	    g->on_pass(g->pass_arg, g->peek, end) : NULL;
	lws_sul_cancel(&c->sul);
	lws_dll2_remove(&c->list);
	free(c);
	/* On failure lws has closed the socket itself. */
	wsi = lws_adopt_socket_vhost(g->target, fd);
	if (wsi == NULL) {
		wlog(WLOG_WARN, NULL, NULL, "could not hand a request to "
		    "the HTTP server");
		if (opaque != NULL && g->free_opaque != NULL)
			g->free_opaque(opaque);
		return;
	}
	if (opaque != NULL)
		lws_set_opaque_user_data(wsi, opaque);
}

/* Answers a head hdrscan refused. */
static void
gate_refuse(struct gate_conn *c, enum hdrscan_result r,
    const struct hdrscan_where *w)
{
	switch (r) {
	case HDRSCAN_LEXER_TRAP:
		wlog(WLOG_INFO, NULL, NULL, "request refused (400): header "
		    "name '%.*s' (line %u) is one the lws lexer misreads",
		    (int)(w->name_len > 64 ? 64 : w->name_len),
		    c->g->peek + w->name_off, w->line);
		gate_answer(c, 400);
		break;
	case HDRSCAN_TOO_LARGE:
		wlog(WLOG_INFO, NULL, NULL, "request refused (431): head "
		    "over %zu bytes", c->g->lim.max_bytes);
		gate_answer(c, 431);
		break;
	case HDRSCAN_TOO_MANY:
		wlog(WLOG_INFO, NULL, NULL, "request refused (431): %s",
		    hdrscan_strerror(r));
		gate_answer(c, 431);
		break;
	default:
		wlog(WLOG_INFO, NULL, NULL, "request refused (400): %s "
		    "(line %u)", hdrscan_strerror(r), w->line);
		gate_answer(c, 400);
		break;
	}
}

static void
gate_peek(struct gate_conn *c)
{
	struct hdrgate *g = c->g;
	struct hdrscan_where w;
	enum hdrscan_result r;
	ssize_t n;
	size_t end;
	unsigned us;

	n = recv(c->fd, g->peek, g->lim.max_bytes + 1,
	    MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		gate_close(c);		/* gone before a full head */
		return;
	}
	if (n < 0)
		n = 0;
	end = hdrscan_head_end(g->peek, (size_t)n, &c->scanned);
	if (end) {
		r = hdrscan_check(g->lx, &g->lim, g->peek, end, &w);
		if (r == HDRSCAN_OK)
			gate_pass(c, end);
		else
			gate_refuse(c, r, &w);
		return;
	}
	/* Not HTTP, or already wrong: no need to wait for the rest. */
	r = hdrscan_check_prefix(g->lx, &g->lim, g->peek, (size_t)n, &w);
	if (r != HDRSCAN_MORE) {
		gate_refuse(c, r, &w);
		return;
	}
	if (lws_now_usecs() >= c->deadline) {
		if (!n) {
			gate_close(c);	/* never said anything */
			return;
		}
		wlog(WLOG_INFO, NULL, NULL, "request refused (408): head not "
		    "complete after %u ms", HDRGATE_TIMEOUT_MS);
		gate_answer(c, 408);
		return;
	}
	us = hdrgate_backoff_us[c->tries];
	if (c->tries + 1 < sizeof(hdrgate_backoff_us) /
	    sizeof(hdrgate_backoff_us[0]))
		c->tries++;
	gate_schedule(c, us);
}

static void
gate_timer(lws_sorted_usec_list_t *sul)
{
	struct gate_conn *c = lws_container_of(sul, struct gate_conn, sul);

	if (c->state == GATE_DRAINING)
		gate_drain(c);
	else
		gate_peek(c);
}

/* Takes an accepted socket from lws (which closes its own copy when
 * this returns non-zero). */
static int
gate_accept(struct hdrgate *g, struct lws *wsi, int fd)
{
	struct gate_conn *c;
	int nfd;

	if (g->target == NULL)
		return 1;
	if (g->conns.count >= g->max_pending) {
		if (!g->full_logged)
			wlog(WLOG_WARN, NULL, NULL, "%u connections wait for "
			    "their request head: closing new ones",
			    g->max_pending);
		g->full_logged = true;
		return 1;
	}
	g->full_logged = false;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0) {
		wlog(WLOG_WARN, NULL, NULL, "connection dropped: dup: %s",
		    strerror(errno));
		return 1;
	}
	g->ctx = lws_get_context(wsi);
	c = xcalloc(1, sizeof(*c));
	c->g = g;
	c->fd = nfd;
	c->state = GATE_PEEKING;
	c->deadline = lws_now_usecs() +
	    (lws_usec_t)HDRGATE_TIMEOUT_MS * LWS_US_PER_MS;
	lws_dll2_add_tail(&c->list, &g->conns);
	gate_schedule(c, 0);
	return 1;
}

static void
gate_close_all(struct hdrgate *g, bool timers)
{
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&g->conns)) {
		struct gate_conn *c = lws_container_of(d, struct gate_conn,
		    list);

		if (timers)
			lws_sul_cancel(&c->sul);
		lws_dll2_remove(&c->list);
		close(c->fd);
		free(c);
	} lws_end_foreach_dll_safe(d, d1);
}

static int
gate_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct hdrgate *g = wsi != NULL ?
	    lws_vhost_user(lws_get_vhost(wsi)) : NULL;

	(void)user;
	(void)len;
	if (g == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return gate_accept(g, wsi, (int)(lws_intptr_t)in);
	case LWS_CALLBACK_PROTOCOL_DESTROY:
		gate_close_all(g, true);
		break;
	default:
		break;
	}
	return 0;
}

struct hdrgate *
hdrgate_new(void)
{
	struct hdrgate *g = xcalloc(1, sizeof(*g));
	const char *names[WSI_TOKEN_COUNT];
	struct rlimit rl;
	size_t n = 0;

	/* The strings lws's lexer table is generated from, for this
	 * build's set of headers. */
	for (int i = 0; i < (int)WSI_TOKEN_COUNT; i++) {
		const unsigned char *s =
		    lws_token_to_string((enum lws_token_indexes)i);

		if (s != NULL && *s)
			names[n++] = (const char *)s;
	}
	g->lx = hdrscan_lexicon_new(names, n);
	g->lim.max_bytes = HDRGATE_HEAD_MAX;
	g->lim.max_fields = HDRGATE_MAX_FIELDS;
	g->peek = xmalloc(g->lim.max_bytes + 1);
	g->max_pending = HDRGATE_MAX_PENDING;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < g->max_pending)
		g->max_pending = rl.rlim_cur / 4 > 16 ?
		    (unsigned)(rl.rlim_cur / 4) : 16;
	g->protocols[0].name = HDRGATE_PROTOCOL;
	g->protocols[0].callback = gate_cb;
	return g;
}

void
hdrgate_listen_info(struct hdrgate *g, struct lws_context_creation_info *info)
{
	info->protocols = g->protocols;
	info->user = g;
}

void
hdrgate_set_on_pass(struct hdrgate *g, hdrgate_pass_fn on_pass,
    void (*free_opaque)(void *), void *arg)
{
	g->on_pass = on_pass;
	g->free_opaque = free_opaque;
	g->pass_arg = arg;
}

void
hdrgate_set_target(struct hdrgate *g, struct lws_vhost *target)
{
	g->target = target;
}

void
hdrgate_free(struct hdrgate *g)
{
	if (g == NULL)
		return;
	/* The context is gone, and its timers with it. */
	gate_close_all(g, false);
	hdrscan_lexicon_free(g->lx);
	free(g->peek);
	free(g);
}
