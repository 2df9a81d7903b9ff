/*
 * server — the lws protocol callback of wrg-sample-runtime: REST and the
 * observation WebSocket on one vhost.
 *
 * Ownership: a connection's pss owns its request copies, its pending
 * response and its WS send queue; all are freed when lws reports the
 * connection closed (CLOSED_HTTP / HTTP_DROP_PROTOCOL / CLOSED). The
 * struct server (main's) owns the store and outlives the context.
 * Everything runs on the one lws service thread.
 */
#include "config.h"

#include "server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hdrgate.h"
#include "wjson.h"
#include "wlog.h"
#include "xalloc.h"

/* "Bearer " + a token of up to 4096 bytes (wrg.conf(5)), with room. */
#define SRV_AUTH_MAX 8192
#define SRV_URI_MAX HDRGATE_HEADER_DATA	/* any URI lws holds */
#define SRV_CHUNK 32768

struct server_msg {
	struct server_msg *next;
	size_t len;
	unsigned char data[];		/* LWS_PRE headroom + len bytes */
};

struct server_pss {
	struct lws *wsi;
	/* HTTP */
	const char *method;
	char *path, *query, *auth;
	char *body;
	size_t body_len;
	bool body_too_large;
	bool body_chunked;
	bool responded;			/* resp holds the answer */
	bool delaying;
	bool hdr_sent;
	bool close_after;		/* not GET/POST: no keep-alive */
	struct api_response resp;
	size_t resp_off;
	lws_sorted_usec_list_t sul;
	/* WebSocket */
	bool is_ws;
	bool live;			/* receives live events */
	bool closing;			/* close once the queue is sent */
	bool dropped;			/* shut down by drop-ws */
	enum lws_close_status close_code;
	lws_dll2_t node;		/* in server.conns */
	const struct store_worker *worker;
	struct server_msg *qhead, *qtail;
	size_t qcount, qbytes;
};

static struct server *
srv_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* ---- HTTP ---- */

static void
server_http_reset(struct server_pss *p)
{
	lws_sul_cancel(&p->sul);
	free(p->path);
	free(p->query);
	free(p->auth);
	free(p->body);
	api_response_clear(&p->resp);
	p->path = p->query = p->auth = p->body = NULL;
	p->body_len = 0;
	p->body_too_large = p->responded = p->delaying = p->hdr_sent = false;
	p->close_after = p->body_chunked = false;
	p->resp_off = 0;
	p->method = NULL;
}

static char *
server_hdr_dup(struct lws *wsi, enum lws_token_indexes h, int max)
{
	int n = lws_hdr_total_length(wsi, h);
	char *s;

	if (n <= 0)
		return NULL;
	if (n > max)
		return xstrdup("");	/* too long: never a valid value */
	s = xmalloc((size_t)n + 1);
	if (lws_hdr_copy(wsi, s, n + 1, h) < 0) {
		free(s);
		return xstrdup("");
	}
	return s;
}

/* Query argument number idx (decoded by lws), owned by the caller, or
 * NULL when there is no such argument. */
static char *
server_arg_dup(struct lws *wsi, int idx)
{
	int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, idx);
	char *s;

	if (fl < 0 || fl > SRV_URI_MAX)
		return NULL;
	s = xmalloc((size_t)fl + 1);
	if (lws_hdr_copy_fragment(wsi, s, fl + 1, WSI_TOKEN_HTTP_URI_ARGS,
	    idx) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The query as "a=1&b=2" (each argument decoded by lws, so an encoded
 * '&' inside a value splits it; the values used here are numbers). */
static char *
server_query_dup(struct lws *wsi)
{
	char *q = xstrdup(""), *a;
	size_t len = 0;
	int i;

	for (i = 0; i < 64 && (a = server_arg_dup(wsi, i)) != NULL; i++) {
		size_t n = strlen(a);

		q = xrealloc(q, len + n + 2);
		if (len > 0)
			q[len++] = '&';
		memcpy(q + len, a, n + 1);
		len += n;
		free(a);
	}
	return q;
}

static void
server_delay_done(lws_sorted_usec_list_t *sul)
{
	struct server_pss *p = lws_container_of(sul, struct server_pss, sul);

	p->delaying = false;
	lws_callback_on_writable(p->wsi);
}

static void
server_http_answer(struct lws *wsi, struct server_pss *p)
{
	struct server *srv = srv_of(wsi);
	struct api_request req = {
		.method = p->method, .path = p->path,
		.query = p->query ? p->query : "", .auth = p->auth,
		.body = p->body, .body_len = p->body_len,
		.body_too_large = p->body_too_large,
		.body_chunked = p->body_chunked,
	};

	api_handle(&srv->api, &req, &p->resp);
	p->responded = true;
	wlog(WLOG_DEBUG, NULL, NULL, "%s %s -> %d", p->method, p->path,
	    p->resp.status);
	if (p->resp.delay_ms > 0) {
		p->delaying = true;
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		lws_sul_schedule(srv->context, 0, &p->sul, server_delay_done,
		    (lws_usec_t)p->resp.delay_ms * LWS_US_PER_MS);
		return;
	}
	lws_callback_on_writable(wsi);
}

static const char *
server_method_name(int m)
{
	switch (m) {
	case LWSHUMETH_GET: return "GET";
	case LWSHUMETH_POST: return "POST";
	case LWSHUMETH_OPTIONS: return "OPTIONS";
	case LWSHUMETH_PUT: return "PUT";
	case LWSHUMETH_PATCH: return "PATCH";
	case LWSHUMETH_DELETE: return "DELETE";
	case LWSHUMETH_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

/* Returns -1 to drop the connection. */
static int
server_http_begin(struct lws *wsi, struct server_pss *p, const char *path)
{
	char *uri = NULL;
	int ulen = 0, m;

	server_http_reset(p);
	p->wsi = wsi;
	m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	p->method = server_method_name(m);
	/* lws may treat the bytes after a bodyless PUT/PATCH/... as its
	 * body, so such a connection is not reused. */
	p->close_after = m != LWSHUMETH_GET && m != LWSHUMETH_POST;
	p->path = xstrdup(path);
	p->query = server_query_dup(wsi);
	p->auth = server_hdr_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
	    SRV_AUTH_MAX);
	if (m == LWSHUMETH_POST || m == LWSHUMETH_PUT ||
	    m == LWSHUMETH_PATCH) {
		char cl[32];

		/* A body follows only with a Content-Length above 0; else
		 * answer now, as lws sends no BODY_COMPLETION then. */
		if (lws_hdr_total_length(wsi,
		    WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
			/* lws 4.1 cannot decode chunked request bodies:
			 * refuse at once instead of stalling. */
			p->body_chunked = true;
			p->close_after = true;
		} else if (lws_hdr_copy(wsi, cl, sizeof(cl),
		    WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 && atoll(cl) > 0)
			return 0;
	}
	server_http_answer(wsi, p);
	return 0;
}

static void
server_http_body(struct server_pss *p, const void *in, size_t len)
{
	if (p->responded || p->body_too_large)
		return;
	if (p->body_len + len > API_MAX_BODY) {
		p->body_too_large = true;
		free(p->body);
		p->body = NULL;
		p->body_len = 0;
		return;
	}
	p->body = xrealloc(p->body, p->body_len + len + 1);
	memcpy(p->body + p->body_len, in, len);
	p->body_len += len;
	p->body[p->body_len] = '\0';
}

/* Sends headers, then the body in chunks, one write per WRITEABLE. */
static int
server_http_write(struct lws *wsi, struct server_pss *p)
{
	unsigned char *buf = NULL, *start, *ptr, *end;
	int rc = 0;

	if (!p->responded || p->delaying)
		return 0;
	if (!p->hdr_sent) {
		buf = xmalloc(LWS_PRE + 1024);
		start = ptr = buf + LWS_PRE;
		end = start + 1024;
		if (lws_add_http_common_headers(wsi,
		    (unsigned int)p->resp.status, p->resp.body ?
		    "application/json" : "text/plain",
		    (lws_filepos_t)p->resp.body_len, &ptr, end) ||
		    (p->close_after && lws_add_http_header_by_token(wsi,
		    WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
		    &ptr, end)) ||
		    lws_finalize_write_http_header(wsi, start, &ptr, end)) {
			rc = -1;
			goto out;
		}
		p->hdr_sent = true;
		if (p->resp.body_len == 0) {
			rc = p->close_after ||
			    lws_http_transaction_completed(wsi) ? -1 : 0;
			goto out;
		}
		lws_callback_on_writable(wsi);
		goto out;
	}
	{
		size_t left = p->resp.body_len - p->resp_off;
		size_t n = left > SRV_CHUNK ? SRV_CHUNK : left;
		bool last = n == left;

		buf = xmalloc(LWS_PRE + n);
		memcpy(buf + LWS_PRE, p->resp.body + p->resp_off, n);
		if (lws_write(wsi, buf + LWS_PRE, n, last ?
		    LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) {
			rc = -1;
			goto out;
		}
		p->resp_off += n;
		if (last) {
			api_response_clear(&p->resp);
			p->responded = false;
			rc = p->close_after ||
			    lws_http_transaction_completed(wsi) ? -1 : 0;
		} else {
			lws_callback_on_writable(wsi);
		}
	}
out:
	free(buf);
	return rc;
}

/* Answers a refused upgrade with a complete small response and returns 1
 * (lws: "rejected, headers sent"), or -1 on failure. The head is written
 * here because lws would label it HTTP/1.0 at this stage, which strict
 * WebSocket clients refuse to parse. */
static int
server_refuse_upgrade(struct lws *wsi, int status, const char *body,
    size_t len)
{
	char *head = xasprintf("HTTP/1.1 %d %s\r\ncontent-type: %s\r\n"
	    "content-length: %zu\r\nconnection: close\r\n\r\n", status,
	    status == 401 ? "Unauthorized" : "Not Found",
	    body ? "application/json" : "text/plain", len);
	size_t hl = strlen(head);
	unsigned char *buf = xmalloc(LWS_PRE + hl + len);
	int rc = 1;

	memcpy(buf + LWS_PRE, head, hl);
	if (len > 0)
		memcpy(buf + LWS_PRE + hl, body, len);
	if (lws_write(wsi, buf + LWS_PRE, hl + len, LWS_WRITE_HTTP_HEADERS) !=
	    (int)(hl + len))
		rc = -1;
	free(buf);
	free(head);
	return rc;
}

/* The worker id of an events/ws path (owned by the caller), or NULL. */
static char *
server_ws_worker_id(const char *path)
{
	static const char pre[] = "/v1/workers/", suf[] = "/events/ws";
	size_t len = strlen(path), pl = sizeof(pre) - 1, sl = sizeof(suf) - 1;
	char *id;

	if (len <= pl + sl || strncmp(path, pre, pl) != 0 ||
	    strcmp(path + len - sl, suf) != 0)
		return NULL;
	id = xstrndup(path + pl, len - pl - sl);
	if (strchr(id, '/') != NULL) {
		free(id);
		return NULL;
	}
	return id;
}

static int
server_confirm_upgrade(struct lws *wsi)
{
	struct server *srv = srv_of(wsi);
	char *path = server_hdr_dup(wsi, WSI_TOKEN_GET_URI, SRV_URI_MAX);
	char *auth = server_hdr_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
	    SRV_AUTH_MAX);
	char *id = path ? server_ws_worker_id(path) : NULL;
	int rc = 0;

	if (!api_ws_authorized(&srv->api, auth)) {
		size_t len;
		char *body = api_error_body("unauthorized",
		    "missing or wrong bearer token", &len);

		rc = server_refuse_upgrade(wsi, 401, body, len);
		free(body);
	} else if (id == NULL) {
		rc = server_refuse_upgrade(wsi, 404, NULL, 0);
	}
	free(path);
	free(auth);
	free(id);
	return rc;
}

/* ---- WebSocket ---- */

static void
server_queue_clear(struct server_pss *p)
{
	while (p->qhead != NULL) {
		struct server_msg *m = p->qhead;

		p->qhead = m->next;
		free(m);
	}
	p->qtail = NULL;
	p->qcount = p->qbytes = 0;
}

static void
server_queue_push(struct server_pss *p, const char *s, size_t len)
{
	struct server_msg *m = xmalloc(sizeof(*m) + LWS_PRE + len);

	m->next = NULL;
	m->len = len;
	memcpy(m->data + LWS_PRE, s, len);
	if (p->qtail != NULL)
		p->qtail->next = m;
	else
		p->qhead = m;
	p->qtail = m;
	p->qcount++;
	p->qbytes += len;
	lws_callback_on_writable(p->wsi);
}

/* Takes ownership of obj. */
static void
server_queue_json(struct server_pss *p, struct json_object *obj)
{
	size_t len;
	const char *s = wjson_str(obj, &len);

	server_queue_push(p, s, len);
	json_object_put(obj);
}

/* Queues a diagnostic and closes the socket once it is sent. */
static void
server_ws_diag(struct server_pss *p, const char *code, const char *message,
    enum lws_close_status close_code)
{
	struct json_object *o = json_object_new_object();
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "code", json_object_new_string(code));
	json_object_object_add(d, "message", json_object_new_string(message));
	json_object_object_add(o, "kind",
	    json_object_new_string("diagnostic"));
	json_object_object_add(o, "diagnostic", d);
	server_queue_json(p, o);
	p->live = false;
	p->closing = true;
	p->close_code = close_code;
}

static void
server_cursor_str(char *out, size_t n, uint64_t seq)
{
	snprintf(out, n, "wo_%016" PRIx64, seq);
}

/* "wo_" + 16 lower-case hex digits; anything else is malformed. */
static bool
server_cursor_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (strlen(s) != 19 || strncmp(s, "wo_", 3) != 0)
		return false;
	for (i = 3; i < 19; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*out = v;
	return true;
}

static struct json_object *
server_envelope(const char *cursor, const char *event_id,
    const char *worker_id,
    struct json_object *payload)
{
	struct json_object *o = json_object_new_object();
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "cursor", json_object_new_string(cursor));
	json_object_object_add(e, "event_id",
	    json_object_new_string(event_id));
	json_object_object_add(e, "worker_id",
	    json_object_new_string(worker_id));
	json_object_object_add(e, "payload", payload);
	json_object_object_add(o, "kind", json_object_new_string("event"));
	json_object_object_add(o, "envelope", e);
	return o;
}

static struct json_object *
server_event_msg(const struct store_event *ev)
{
	char cur[24];

	server_cursor_str(cur, sizeof(cur), ev->seq);
	return server_envelope(cur, cur, ev->worker->id,
	    json_object_get(ev->payload));
}

static struct json_object *
server_snapshot_msg(struct server *srv, const struct store_worker *w)
{
	struct json_object *entries = json_object_new_array();
	struct json_object *data = json_object_new_object();
	struct json_object *greeting = json_object_new_object();
	struct json_object *payload = json_object_new_object();
	char cur[24], eid[40];
	size_t i = 0;

	/* the newest max_transcript entries, so a long-lived worker's
	 * snapshot stays small (older ones: GET .../transcript) */
	if (w->n_entries > srv->api.max_transcript)
		i = w->n_entries - srv->api.max_transcript;
	for (; i < w->n_entries; i++)
		json_object_array_add(entries,
		    api_transcript_entry(&srv->api, w, i, false));
	json_object_object_add(greeting, "runtime_id",
	    json_object_new_string(srv->api.runtime_id));
	json_object_object_add(greeting, "worker_id",
	    json_object_new_string(w->id));
	json_object_object_add(greeting, "text",
	    json_object_new_string("wrg-sample-runtime worker"));
	json_object_object_add(data, "entries", entries);
	json_object_object_add(data, "greeting", greeting);
	json_object_object_add(data, "status",
	    json_object_new_string(store_strstatus(w->status)));
	json_object_object_add(payload, "event",
	    json_object_new_string("snapshot"));
	json_object_object_add(payload, "data", data);
	server_cursor_str(cur, sizeof(cur), store_head(srv->st));
	snprintf(eid, sizeof(eid), "snapshot:%s", cur);
	return server_envelope(cur, eid, w->id, payload);
}

/* The cursor query argument: NULL if absent (caller frees). */
static char *
server_ws_cursor_arg(struct lws *wsi)
{
	char *found = NULL, *a;
	int i;

	for (i = 0; i < 64 && (a = server_arg_dup(wsi, i)) != NULL; i++) {
		if (strncmp(a, "cursor=", 7) == 0) {
			free(found);
			found = xstrdup(a + 7);
		} else if (strcmp(a, "cursor") == 0) {
			free(found);
			found = xstrdup("");
		}
		free(a);
	}
	return found;
}

static void
server_ws_established(struct lws *wsi, struct server_pss *p)
{
	struct server *srv = srv_of(wsi);
	char *path = server_hdr_dup(wsi, WSI_TOKEN_GET_URI, SRV_URI_MAX);
	char *id = path ? server_ws_worker_id(path) : NULL;
	char *cur = server_ws_cursor_arg(wsi);
	const struct store_worker *w;
	uint64_t c = 0, s;

	memset(p, 0, sizeof(*p));
	p->wsi = wsi;
	p->is_ws = true;
	lws_dll2_add_tail(&p->node, &srv->conns);
	if (cur != NULL && !server_cursor_parse(cur, &c)) {
		server_ws_diag(p, "runtime.cursor_malformed",
		    "cursor must be wo_ followed by 16 lower-case hex digits",
		    LWS_CLOSE_STATUS_NORMAL);
		goto out;
	}
	w = id ? store_worker_find(srv->st, id) : NULL;
	if (w == NULL) {
		server_ws_diag(p, "runtime.worker_not_found", "no such worker",
		    LWS_CLOSE_STATUS_NORMAL);
		goto out;
	}
	p->worker = w;
	server_queue_json(p, server_snapshot_msg(srv, w));
	if (cur != NULL) {
		if (c > store_head(srv->st) || c + 1 < store_oldest(srv->st)) {
			server_ws_diag(p, "runtime.cursor_unknown_or_expired",
			    "cursor is not within the retained events",
			    LWS_CLOSE_STATUS_NORMAL);
			goto out;
		}
		for (s = c + 1; s <= store_head(srv->st); s++) {
			const struct store_event *ev =
			    store_event_get(srv->st, s);

			if (ev != NULL && ev->worker == w)
				server_queue_json(p, server_event_msg(ev));
		}
	}
	p->live = true;
out:
	free(path);
	free(id);
	free(cur);
}

static int
server_ws_write(struct lws *wsi, struct server_pss *p)
{
	struct server_msg *m = p->qhead;
	int n;

	if (m == NULL) {
		if (p->closing) {
			lws_close_reason(wsi, p->close_code, NULL, 0);
			return -1;
		}
		return 0;
	}
	n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
	p->qhead = m->next;
	if (p->qhead == NULL)
		p->qtail = NULL;
	p->qcount--;
	p->qbytes -= m->len;
	free(m);
	if (n < 0)
		return -1;
	if (p->qhead != NULL || p->closing)
		lws_callback_on_writable(wsi);
	return 0;
}

/* Calls fn(p, arg) on every observation socket. The list is walked with
 * lws's safe macro here only: fn may return early, and may drop p. */
static void
server_each_conn(struct server *srv,
    void (*fn)(struct server_pss *p, void *arg), void *arg)
{
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&srv->conns)) {
		fn(lws_container_of(d, struct server_pss, node), arg);
	} lws_end_foreach_dll_safe(d, d1);
}

/* One event on its way to the sockets of its worker, as the frame text
 * they are sent (built once per event). */
struct server_fanout {
	struct server *srv;
	const struct store_worker *worker;
	const char *s;
	size_t len;
};

static void
server_fanout_one(struct server_pss *p, void *arg)
{
	struct server_fanout *f = arg;

	if (!p->live || p->worker != f->worker)
		return;
	if (p->qcount >= f->srv->queue_max_msgs ||
	    p->qbytes >= f->srv->queue_max_bytes) {
		server_queue_clear(p);
		server_ws_diag(p, "runtime.cursor_expired",
		    "connection fell too far behind", LWS_CLOSE_STATUS_NORMAL);
		return;
	}
	server_queue_push(p, f->s, f->len);
}

/* store listener: fan a new event out to the live sockets of its worker;
 * a socket whose queue is full gets runtime.cursor_expired instead. */
static void
server_on_event(void *arg, const struct store_event *ev)
{
	struct json_object *msg = server_event_msg(ev);
	struct server_fanout f = { arg, ev->worker, NULL, 0 };

	f.s = wjson_str(msg, &f.len);
	server_each_conn(f.srv, server_fanout_one, &f);
	json_object_put(msg);
}

/* Shuts p down at the TCP level unless that was done already (it is
 * then shut, just not reaped yet); counts it in *(int *)arg. */
static void
server_drop_one(struct server_pss *p, void *arg)
{
	if (p->dropped)
		return;
	p->dropped = true;
	p->live = false;
	server_queue_clear(p);
	shutdown(lws_get_socket_fd(p->wsi), SHUT_RDWR);
	lws_callback_on_writable(p->wsi);
	(*(int *)arg)++;
}

/* /_control/drop-ws: shut every observation socket down at the TCP
 * level (no close frame, no diagnostic); lws then reaps them. */
static int
server_drop_ws(void *arg)
{
	int n = 0;

	server_each_conn(arg, server_drop_one, &n);
	return n;
}

static void
server_tick(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, tick_sul);
	size_t i, n = store_worker_count(srv->st);

	for (i = 0; i < n; i++) {
		struct store_worker *w = store_worker_at(srv->st, i);

		if (w->status == STORE_RUNNING &&
		    store_tick(srv->st, w, NULL) != STORE_OK)
			wlog(WLOG_ERR, NULL, NULL,
			    "tick: event log write failed");
	}
	lws_sul_schedule(srv->context, 0, &srv->tick_sul, server_tick,
	    (lws_usec_t)srv->tick_ms * LWS_US_PER_MS);
}

static int
server_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct server_pss *p = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return server_http_begin(wsi, p, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		server_http_body(p, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!p->responded)
			server_http_answer(wsi, p);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return server_http_write(wsi, p);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (p != NULL && !p->is_ws)
			server_http_reset(p);
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return server_confirm_upgrade(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		server_ws_established(wsi, p);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (!p->closing)
			server_ws_diag(p, "runtime.observation_only",
			    "this socket is observation-only",
			    LWS_CLOSE_STATUS_POLICY_VIOLATION);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return server_ws_write(wsi, p);
	case LWS_CALLBACK_CLOSED:
		if (p != NULL && p->is_ws) {
			lws_dll2_remove(&p->node);
			server_queue_clear(p);
			p->is_ws = false;
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols server_protocol_list[] = {
	{ "wrg-sample-runtime", server_callback, sizeof(struct server_pss),
	    65536, 0, NULL,
	    0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

const struct lws_protocols *
server_protocols(void)
{
	return server_protocol_list;
}

void
server_init(struct server *srv)
{
	store_set_listener(srv->st, server_on_event, srv);
	srv->api.drop_ws = server_drop_ws;
	srv->api.drop_ws_arg = srv;
}

void
server_start(struct server *srv, struct lws_context *context)
{
	srv->context = context;
	if (srv->tick_ms > 0)
		lws_sul_schedule(context, 0, &srv->tick_sul, server_tick,
		    (lws_usec_t)srv->tick_ms * LWS_US_PER_MS);
}

void
server_stop(struct server *srv)
{
	lws_sul_cancel(&srv->tick_sul);
	store_set_listener(srv->st, NULL, NULL);
}
