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
 */
#include "upstream.h"

#include <curl/curl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ids.h"
#include "rtreq.h"
#include "wlog.h"
#include "xalloc.h"

/* Idle easy handles kept per runtime. */
#define UPSTREAM_POOL_MAX 32

/* What every call to one runtime shares: idle easy handles that already
 * carry the runtime's options, the start of its URLs, and the headers
 * sent on every call (built by hand, so a call allocates no list). */
struct upstream_pool {
	CURL *easy[UPSTREAM_POOL_MAX];
	size_t n;
	char *url_base;			/* scheme://authority[base_path] */
	char *auth;			/* "Authorization: Bearer ..." (a
					 * secret) or NULL */
	struct curl_slist fixed[3];	/* Accept, Expect, Authorization */
};

struct upstream {
	const struct registry *reg;
	CURLM *multi;
	struct upstream_pool *pool;	/* per runtime index */
	size_t pool_count;
	bool attached;
	struct upstream_hooks hooks;
	struct upstream_batch *batches;	/* running, doubly linked */
	size_t running;
	struct upstream_batch *finished;	/* done, callbacks pending */
};

/* One call's transfer. */
struct upstream_xfer {
	struct upstream_batch *b;
	struct upstream_call *call;
	CURL *easy;
	/* Its own headers, in front of the runtime's fixed ones. */
	struct curl_slist hdr[2];
	char id_hdr[sizeof("X-Request-Id: ") + IDS_REQUEST_ID_MAX];
	size_t cap;
	size_t alloc;		/* bytes allocated at call->resp */
	bool too_large;
	bool done;
};

struct upstream_batch {
	struct upstream_batch *prev, *next;
	struct upstream_xfer *xs;
	size_t n, left;		/* calls, calls not finished */
	upstream_done_fn done;
	void *arg;
};

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
	for (size_t i = 0; i < up->pool_count; i++) {
		struct upstream_pool *p = &up->pool[i];

		for (size_t k = 0; k < p->n; k++)
			curl_easy_cleanup(p->easy[k]);
		free(p->url_base);
		rtreq_secret_free(p->auth);
	}
	free(up->pool);
	curl_multi_cleanup(up->multi);
	free(up);
}

/* Appends received bytes, refusing (and so failing the transfer with
 * CURLE_WRITE_ERROR) as soon as the cap would be passed. */
static size_t
upstream_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct upstream_xfer *x = arg;
	struct upstream_call *c = x->call;
	size_t n = size * nmemb;

	size_t need;

	if (n > x->cap - c->resp_len) {
		x->too_large = true;
		return 0;
	}
	/* Doubling, never past cap + 1: a realloc per chunk copies a large
	 * answer over and over (always, under ASan). */
	need = c->resp_len + n + 1;
	if (need > x->alloc) {
		size_t a = x->alloc ? x->alloc : 16384;

		while (a < need)
			a = a > SIZE_MAX / 2 ? need : a * 2;
		if (a > x->cap + 1)
			a = x->cap + 1;
		c->resp = xrealloc(c->resp, a);
		x->alloc = a;
	}
	memcpy(c->resp + c->resp_len, ptr, n);
	c->resp_len += n;
	c->resp[c->resp_len] = '\0';
	return n;
}

/* The start of every URL of rt. Unix runtimes are addressed as
 * http://localhost over CURLOPT_UNIX_SOCKET_PATH. */
static char *
upstream_url_base(const struct registry_runtime *rt)
{
	char *auth, *url;

	if (rt->transport == REGISTRY_TRANSPORT_UNIX)
		return xstrdup("http://localhost");
	auth = rtreq_authority(rt->host, rt->port);
	url = xasprintf("%s://%s%s",
	    rt->transport == REGISTRY_TRANSPORT_HTTPS ? "https" : "http",
	    auth, rt->base_path != NULL ? rt->base_path : "");
	free(auth);
	return url;
}

/* The pool entry of rt, filled on first use. */
static struct upstream_pool *
upstream_pool_of(struct upstream *up, const struct registry_runtime *rt)
{
	struct upstream_pool *p = &up->pool[rt->index];
	const char *token;
	size_t n = 0;

	if (p->url_base != NULL)
		return p;
	p->url_base = upstream_url_base(rt);
	token = registry_token(up->reg, rt);
	if (token != NULL)
		p->auth = rtreq_bearer(token, RTREQ_BEARER_HEADER);
	p->fixed[n++].data = (char *)"Accept: application/json";
	p->fixed[n++].data = (char *)"Expect:";
	if (p->auth != NULL)
		p->fixed[n++].data = p->auth;
	for (size_t i = 0; i + 1 < n; i++)
		p->fixed[i].next = &p->fixed[i + 1];
	return p;
}

/* CURLOPT_OPENSOCKETFUNCTION: the socket curl would open, and the loop
 * told of it. */
static curl_socket_t
upstream_open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct upstream *up = arg;
	int fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd >= 0 && up->hooks.conn_socket != NULL)
		up->hooks.conn_socket(up->hooks.arg, fd, true);
	return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

/* CURLOPT_CLOSESOCKETFUNCTION */
static int
upstream_close_cb(void *arg, curl_socket_t fd)
{
	struct upstream *up = arg;

	if (up->hooks.conn_socket != NULL)
		up->hooks.conn_socket(up->hooks.arg, (int)fd, false);
	return close(fd);
}

/* The options of an easy handle that depend only on its runtime: set
 * once, when the handle is made for the runtime's pool. */
static void
upstream_easy_base(struct upstream *up, CURL *e,
    const struct registry_runtime *rt)
{
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Without this, removing a handle whose name lookup timed out waits
	 * for the resolver thread, so a slow DNS server would hold a FastCGI
	 * thread far past connect_timeout_ms. */
	curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, rt->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rt->request_timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)up->reg->max_upstream_body_bytes);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, upstream_write_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, upstream_open_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, up);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, upstream_close_cb);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, up);
	if (rt->transport == REGISTRY_TRANSPORT_UNIX)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, rt->unix_path);
	if (rt->transport == REGISTRY_TRANSPORT_HTTPS) {
		curl_easy_setopt(e, CURLOPT_CAINFO, rt->tls.ca_file);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER,
		    rt->tls.verify ? 1L : 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST,
		    rt->tls.verify ? 2L : 0L);
		curl_easy_setopt(e, CURLOPT_SSLCERT, rt->tls.client_cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, rt->tls.client_key);
	}
}

/* Sets the options of one call on its runtime's easy handle: the URL,
 * the method and body, the headers, where the answer goes. */
static void
upstream_setup(struct upstream *up, struct upstream_xfer *x,
    const char *request_id)
{
	struct upstream_call *c = x->call;
	const struct registry_runtime *rt = c->rt;
	struct upstream_pool *p = upstream_pool_of(up, rt);
	CURL *e = x->easy;
	char *url;

	url = xasprintf("%s%s", p->url_base, c->path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);		/* curl copies strings it is given */
	if (rt->transport == REGISTRY_TRANSPORT_HTTPS)
		curl_easy_setopt(e, CURLOPT_CERTINFO, c->want_cert ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->detail);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (c->post) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
		    c->body != NULL ? c->body : "");
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}

	/* X-Request-Id (and Content-Type for a POST), then the runtime's
	 * fixed headers: curl only reads the list. */
	snprintf(x->id_hdr, sizeof(x->id_hdr), "X-Request-Id: %.*s",
	    IDS_REQUEST_ID_MAX, request_id != NULL ? request_id : "");
	x->hdr[0].data = x->id_hdr;
	x->hdr[0].next = &p->fixed[0];
	if (c->post) {
		x->hdr[0].next = &x->hdr[1];
		x->hdr[1].data = (char *)"Content-Type: application/json";
		x->hdr[1].next = &p->fixed[0];
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, &x->hdr[0]);
}

/* The server certificate's notAfter, from curl's certinfo ("Expire
 * date:Nov 30 12:00:00 2027 GMT"); 0 if unknown. */
static long long
upstream_cert_expires(CURL *e)
{
	struct curl_certinfo *ci = NULL;
	const char *key = "Expire date:";
	time_t t;

	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs < 1)
		return 0;
	for (struct curl_slist *l = ci->certinfo[0]; l != NULL; l = l->next) {
		if (strncmp(l->data, key, strlen(key)) != 0)
			continue;
		t = curl_getdate(l->data + strlen(key), NULL);
		return t > 0 ? (long long)t : 0;
	}
	return 0;
}

/* Classifies a finished transfer. */
static void
upstream_finish(struct upstream_xfer *x, CURLcode rc)
{
	struct upstream_call *c = x->call;
	curl_off_t sent = 0, usec = 0;

	c->curl_code = (int)rc;
	x->done = true;
	if (curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &usec) == CURLE_OK)
		c->usec = (long long)usec;
	if (c->want_cert && c->rt->transport == REGISTRY_TRANSPORT_HTTPS)
		c->cert_expires = upstream_cert_expires(x->easy);
	if (rc != CURLE_OK && c->detail[0] == '\0')
		snprintf(c->detail, sizeof(c->detail), "%s",
		    curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_OK:
		c->err = UPSTREAM_OK;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &c->status);
		if (c->status < 100)
			c->err = UPSTREAM_ERR_BAD_RESPONSE;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		/* A timeout before the request was sent is a connect
		 * failure; after it, the runtime took too long. */
		curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &sent);
		c->err = sent > 0 ? UPSTREAM_ERR_TIMEOUT :
		    UPSTREAM_ERR_UNREACHABLE;
		break;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		c->err = x->too_large || rc == CURLE_FILESIZE_EXCEEDED ?
		    UPSTREAM_ERR_TOO_LARGE : UPSTREAM_ERR_BAD_RESPONSE;
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		c->err = UPSTREAM_ERR_TLS;
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
		c->err = UPSTREAM_ERR_BAD_RESPONSE;
		break;
	case CURLE_RECV_ERROR:
		/* TLS 1.3: a server that refuses our client certificate
		 * aborts the handshake with an alert the client reads only
		 * after sending its request (TLS 1.2: CURLE_SSL_CONNECT_ERROR
		 * above). Still a TLS failure, not an unreachable runtime. */
		c->err = c->rt->transport == REGISTRY_TRANSPORT_HTTPS &&
		    strstr(c->detail, " alert ") != NULL ? UPSTREAM_ERR_TLS :
		    UPSTREAM_ERR_UNREACHABLE;
		break;
	default:
		/* resolve, connect, send/recv errors, empty reply, ... */
		c->err = UPSTREAM_ERR_UNREACHABLE;
		break;
	}
	if (c->err != UPSTREAM_OK) {
		free(c->resp);
		c->resp = NULL;
		c->resp_len = 0;
	}
}

/* An easy handle for a call to runtime idx: an idle one of the pool, or
 * a new one. */
static CURL *
upstream_easy_get(struct upstream *up, const struct registry_runtime *rt)
{
	struct upstream_pool *p = &up->pool[rt->index];
	CURL *e;

	if (p->n > 0)
		return p->easy[--p->n];
	e = curl_easy_init();
	if (e == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "curl_easy_init failed");
		abort();
	}
	upstream_easy_base(up, e, rt);
	return e;
}

/* Takes x's easy handle out of the multi handle, drops its pointers into
 * x, and gives it back to the pool (or frees it when the pool is full). */
static void
upstream_xfer_release(struct upstream *up, struct upstream_xfer *x)
{
	size_t idx = x->call->rt->index;

	if (!x->done) {
		/* Cancelled, or a multi-level failure. */
		x->call->err = UPSTREAM_ERR_UNREACHABLE;
		free(x->call->resp);
		x->call->resp = NULL;
		x->call->resp_len = 0;
	}
	curl_multi_remove_handle(up->multi, x->easy);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, NULL);
	if (up->pool[idx].n < UPSTREAM_POOL_MAX)
		up->pool[idx].easy[up->pool[idx].n++] = x->easy;
	else
		curl_easy_cleanup(x->easy);
	x->easy = NULL;
}

/* Makes a batch of the n calls and adds its transfers to the multi
 * handle. */
static struct upstream_batch *
upstream_batch_new(struct upstream *up, struct upstream_call *calls,
    size_t n, const char *request_id)
{
	struct upstream_batch *b = xcalloc(1, sizeof(*b));

	b->xs = xcalloc(n, sizeof(*b->xs));
	b->n = b->left = n;
	b->next = up->batches;
	if (up->batches != NULL)
		up->batches->prev = b;
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
	b->prev = b->next = NULL;
	up->running--;
	for (size_t i = 0; i < b->n; i++)
		if (b->xs[i].easy != NULL)
			upstream_xfer_release(up, &b->xs[i]);
}

static void
upstream_batch_free(struct upstream_batch *b)
{
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
		upstream_batch_free(b);
		if (done != NULL)
			done(arg);
	}
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
		upstream_batch_free(b);
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
		if (*pp == b) {
			*pp = b->next;
			upstream_batch_free(b);
			return;
		}
	upstream_batch_end(up, b);
	upstream_batch_free(b);
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
