/*
 * upstream_easy — the easy handles of the upstream client (see
 * upstream_int.h): per runtime, a pool of idle handles that already carry
 * the runtime's options (timeouts, TLS files, Unix socket, the socket
 * hooks), and one transfer on such a handle: its URL, method, body and
 * headers, the capped answer buffer it fills, and the classification of
 * its end into an upstream_err.
 *
 * Ownership: the pools belong to struct upstream (upstream_free empties
 * them with upstream_pool_clear); a handle taken from a pool belongs to
 * its transfer until upstream_xfer_release gives it back (or frees it
 * when the pool is full). The answer buffer belongs to the call (struct
 * upstream_call).
 */
#include "upstream_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rtreq.h"
#include "wlog.h"
#include "xalloc.h"

/* Appends received bytes, refusing (and so failing the transfer with
 * CURLE_WRITE_ERROR) as soon as the cap would be passed, and pausing
 * the transfer while growing its buffer would pass the upstream's
 * answer budget. */
static size_t
upstream_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct upstream_xfer *x = arg;
	struct upstream_call *c = x->call;
	struct upstream *up = x->b->up;
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
		if (!upstream_may_hold(up, x, a - x->alloc)) {
			/* curl keeps the chunk and hands it over again
			 * after upstream_resume. */
			wlog(WLOG_DEBUG, NULL, c->rt->id, "answer budget "
			    "full (%zu bytes held): the transfer waits",
			    up->held);
			upstream_pause_add(up, x);
			return CURL_WRITEFUNC_PAUSE;
		}
		c->resp = xrealloc(c->resp, a);
		upstream_hold(up, x, a - x->alloc);
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

void
upstream_pool_clear(struct upstream_pool *p)
{
	for (size_t k = 0; k < p->n; k++)
		curl_easy_cleanup(p->easy[k]);
	free(p->url_base);
	rtreq_secret_free(p->auth);
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
void
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
void
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
CURL *
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
void
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
	if (x->paused)
		upstream_pause_remove(up, x);
	curl_multi_remove_handle(up->multi, x->easy);
	if (x->was_paused) {
		/* Whatever curl kept for it goes with the handle. */
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
		return;
	}
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
