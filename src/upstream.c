/*
 * upstream — libcurl client toward the worker runtimes (see upstream.h).
 *
 * Ownership: struct upstream owns its multi handle and its easy handles;
 * a struct upstream_call owns its path, body and answer buffer. While a
 * call is running, its easy handle points at the call (CURLOPT_PRIVATE) and
 * at a header list owned by the local run state of upstream_perform.
 *
 * Connection reuse: every transfer is added to the one multi handle of
 * this thread, whose connection cache outlives the transfers; easy handles
 * are kept per runtime so that their options (TLS, timeouts) need not be
 * rebuilt from nothing for each request.
 */
#include "upstream.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtreq.h"
#include "wlog.h"
#include "xalloc.h"

struct upstream {
	const struct registry *reg;
	CURLM *multi;
	CURL **easy;		/* per runtime index; NULL until first use */
	size_t easy_count;
};

/* Per-transfer state that only lives during upstream_perform. */
struct upstream_xfer {
	struct upstream_call *call;
	CURL *easy;
	bool borrowed;		/* easy belongs to up->easy[] */
	struct curl_slist *headers;
	size_t cap;
	size_t alloc;		/* bytes allocated at call->resp */
	bool too_large;
	bool done;
};

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
	/* Keep at least one idle connection per runtime. */
	curl_multi_setopt(up->multi, CURLMOPT_MAXCONNECTS,
	    (long)(reg->runtime_count + 4));
	up->easy_count = reg->runtime_count;
	up->easy = xcalloc(up->easy_count ? up->easy_count : 1,
	    sizeof(*up->easy));
	return up;
}

void
upstream_free(struct upstream *up)
{
	if (up == NULL)
		return;
	for (size_t i = 0; i < up->easy_count; i++)
		if (up->easy[i] != NULL)
			curl_easy_cleanup(up->easy[i]);
	free(up->easy);
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

/* The URL of path on rt. Unix runtimes are addressed as http://localhost
 * over CURLOPT_UNIX_SOCKET_PATH. */
static char *
upstream_url(const struct registry_runtime *rt, const char *path)
{
	char *auth, *url;

	if (rt->transport == REGISTRY_TRANSPORT_UNIX)
		return xasprintf("http://localhost%s", path);
	auth = rtreq_authority(rt->host, rt->port);
	url = xasprintf("%s://%s%s%s",
	    rt->transport == REGISTRY_TRANSPORT_HTTPS ? "https" : "http",
	    auth, rt->base_path ? rt->base_path : "", path);
	free(auth);
	return url;
}

/* Sets every option of one transfer. Options are set in full each time
 * because the easy handle is reused for other requests. */
static void
upstream_setup(struct upstream *up, struct upstream_xfer *x,
    const char *request_id)
{
	struct upstream_call *c = x->call;
	const struct registry_runtime *rt = c->rt;
	const char *token = registry_token(up->reg, rt);
	CURL *e = x->easy;
	char *url, *hdr;

	url = upstream_url(rt, c->path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);		/* curl copies strings it is given */
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
	curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH,
	    rt->transport == REGISTRY_TRANSPORT_UNIX ? rt->unix_path : NULL);
	if (rt->transport == REGISTRY_TRANSPORT_HTTPS) {
		curl_easy_setopt(e, CURLOPT_CAINFO, rt->tls.ca_file);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER,
		    rt->tls.verify ? 1L : 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST,
		    rt->tls.verify ? 2L : 0L);
		curl_easy_setopt(e, CURLOPT_SSLCERT, rt->tls.client_cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, rt->tls.client_key);
		curl_easy_setopt(e, CURLOPT_CERTINFO, c->want_cert ? 1L : 0L);
	}
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->detail);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, upstream_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (c->post) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
		    c->body ? c->body : "");
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}

	x->headers = curl_slist_append(NULL, "Accept: application/json");
	x->headers = curl_slist_append(x->headers, "Expect:");
	if (c->post)
		x->headers = curl_slist_append(x->headers,
		    "Content-Type: application/json");
	hdr = xasprintf("X-Request-Id: %s", request_id ? request_id : "");
	x->headers = curl_slist_append(x->headers, hdr);
	free(hdr);
	if (token != NULL) {
		hdr = rtreq_bearer(token, RTREQ_BEARER_HEADER);
		x->headers = curl_slist_append(x->headers, hdr);
		rtreq_secret_free(hdr);
	}
	if (x->headers == NULL) {
		wlog(WLOG_ERR, request_id, rt->id, "curl_slist_append failed");
		abort();
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
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
	for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
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
		    strstr(c->detail, " alert ") ? UPSTREAM_ERR_TLS :
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

void
upstream_perform(struct upstream *up, struct upstream_call *calls, size_t n,
    const char *request_id)
{
	struct upstream_xfer *xs;
	int running = 0;

	if (n == 0)
		return;
	xs = xcalloc(n, sizeof(*xs));
	for (size_t i = 0; i < n; i++) {
		struct upstream_xfer *x = &xs[i];
		size_t idx = calls[i].rt->index;

		x->call = &calls[i];
		x->cap = up->reg->max_upstream_body_bytes;
		x->call->err = UPSTREAM_OK;
		x->call->status = 0;
		x->call->cert_expires = 0;
		x->call->usec = 0;
		x->call->detail[0] = '\0';
		free(x->call->resp);
		x->call->resp = NULL;
		x->call->resp_len = 0;
		/* The runtime's own handle unless an earlier call of this
		 * batch already uses it. */
		bool busy = false;
		for (size_t j = 0; j < i; j++)
			if (xs[j].borrowed && calls[j].rt->index == idx)
				busy = true;
		if (!busy && idx < up->easy_count) {
			if (up->easy[idx] == NULL)
				up->easy[idx] = curl_easy_init();
			x->easy = up->easy[idx];
			x->borrowed = true;
		} else {
			x->easy = curl_easy_init();
		}
		if (x->easy == NULL) {
			wlog(WLOG_ERR, request_id, NULL, "curl_easy_init failed");
			abort();
		}
		upstream_setup(up, x, request_id);
		curl_multi_add_handle(up->multi, x->easy);
	}

	do {
		CURLMcode mc = curl_multi_perform(up->multi, &running);
		CURLMsg *msg;
		int left;

		while ((msg = curl_multi_info_read(up->multi, &left)) != NULL) {
			struct upstream_xfer *x = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			upstream_finish(x, msg->data.result);
		}
		if (mc != CURLM_OK) {
			wlog(WLOG_ERR, request_id, NULL, "curl multi: %s",
			    curl_multi_strerror(mc));
			break;
		}
		if (running > 0)
			curl_multi_poll(up->multi, NULL, 0, 1000, NULL);
	} while (running > 0);

	for (size_t i = 0; i < n; i++) {
		struct upstream_xfer *x = &xs[i];

		if (!x->done) {
			/* Only after a multi-level failure. */
			x->call->err = UPSTREAM_ERR_UNREACHABLE;
			free(x->call->resp);
			x->call->resp = NULL;
			x->call->resp_len = 0;
		}
		curl_multi_remove_handle(up->multi, x->easy);
		/* Drop pointers into this function's state. */
		curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, NULL);
		curl_slist_free_all(x->headers);
		if (!x->borrowed)
			curl_easy_cleanup(x->easy);
	}
	free(xs);
}
