/*
 * handler — every REST route of docs/api.md (see handler.h).
 *
 * A route handler validates the request completely, builds the remote
 * path itself (ids go in only as one curl_easy_escape'd segment), calls
 * the runtime(s) through upstream, and rebuilds the answer from the parsed
 * JSON through rewrite. Failures become responses through resp/apierr
 * only; no upstream text is copied into a response except the scrubbed
 * message of a runtime_rejected.
 *
 * This file: routing and dispatch, the request id, the POST body and its
 * fields; one runtime call and its answer are handler_call.c's, the
 * routes that ask every runtime (/api/runtimes, /api/workers)
 * handler_fanout.c's. All three share handler_int.h.
 */
#include "handler.h"
#include "handler_int.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "rewrite.h"
#include "route.h"
#include "rtreq.h"
#include "wjson.h"
#include "wlog.h"
#include "xalloc.h"

bool
handler_request_id(bool trusted, const char *from_browser, char *out)
{
	if (trusted && from_browser != NULL &&
	    ids_request_id_valid(from_browser)) {
		snprintf(out, IDS_REQUEST_ID_MAX + 1, "%s", from_browser);
		return true;
	}
	ids_request_id_generate(out);
	return false;
}

/* An X-Request-Id wrg did not use is still worth a log line, so an
 * operator can find wrg's lines from the id a client knows — as its own
 * field (offered_req=), never as req=, and only when it is a valid id:
 * anything else is reduced to its length, so nothing a client sends can
 * shape the log. */
static void
handler_log_offered(const char *used, const char *offered, bool trusted)
{
	if (ids_request_id_valid(offered))
		wlog(WLOG_INFO, used, NULL, "X-Request-Id not used "
		    "(fcgi.trust_request_id is false): offered_req=%s",
		    offered);
	else
		wlog(WLOG_INFO, used, NULL, "X-Request-Id not used%s: "
		    "offered_req=(invalid, %zu bytes)",
		    trusted ? "" : " (fcgi.trust_request_id is false)",
		    strlen(offered));
}

/* Sets an error response and logs the browser's mistake at INFO. */
static void
handler_fail(struct handler_task *h, enum apierr e, const char *message)
{
	wlog(WLOG_INFO, h->out->request_id, h->rt != NULL ? h->rt->id : NULL,
	    "%s %s: %s", h->req->method != NULL ? h->req->method : "-",
	    route_name(h->route.kind), apierr_code(e));
	resp_error(h->out, e, h->rt != NULL ? h->rt->id : NULL, message);
}

/* "/v1/workers/" + one escaped segment + suffix; owned by the caller. */
static char *
handler_worker_path(const struct route *r, const char *suffix)
{
	char *path = rtreq_worker_path(NULL, r->worker_id, r->worker_id_len,
	    suffix);

	if (path == NULL) {
		wlog(WLOG_ERR, NULL, NULL, "curl_easy_escape failed");
		abort();
	}
	return path;
}

/* The routes that are one call to one runtime, without a query: what
 * to call and how to answer (docs/api.md). */
struct handler_single_route {
	enum route_kind kind;
	bool post;
	enum rtstate_op op;
	const char *suffix;	/* after /v1/workers/<id>; NULL: the path
				 * is /v1/workers itself */
	handler_rewrite_fn fn;
	const char *key;	/* the answer's member */
	int status;
};

static const struct handler_single_route handler_singles[] = {
	{ ROUTE_RUNTIME_WORKERS, false, RTSTATE_OP_LIST_WORKERS, NULL,
	    rewrite_worker_list, "items", 200 },
	{ ROUTE_RUNTIME_WORKERS, true, RTSTATE_OP_CREATE_WORKER, NULL,
	    rewrite_worker_detail, "worker", 201 },
	{ ROUTE_WORKER, false, RTSTATE_OP_GET_WORKER, "",
	    rewrite_worker_detail, "worker", 200 },
	{ ROUTE_WORKER_INPUT, true, RTSTATE_OP_SEND_INPUT, "/input",
	    rewrite_ack, "ack", 200 },
	{ ROUTE_WORKER_STOP, true, RTSTATE_OP_STOP_WORKER, "/stop",
	    rewrite_ack, "ack", 200 },
	{ ROUTE_WORKER_CANCEL, true, RTSTATE_OP_CANCEL_WORKER, "/cancel",
	    rewrite_ack, "ack", 200 },
};

/* Starts h's route if the table has it (body: the POST's, owned by the
 * caller). Returns whether it did. */
static bool
handler_single_start(struct handler_task *h, bool post,
    struct json_object *body)
{
	for (size_t i = 0; i < sizeof(handler_singles) /
	    sizeof(handler_singles[0]); i++) {
		const struct handler_single_route *r = &handler_singles[i];

		if (r->kind != h->route.kind || r->post != post)
			continue;
		handler_single(h, r->op, r->suffix != NULL ?
		    handler_worker_path(&h->route, r->suffix) :
		    xstrdup("/v1/workers"), body, r->fn, r->key, r->status);
		return true;
	}
	return false;
}

/* application/json, optionally followed by parameters. */
static bool
handler_is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* Parses a decimal count of at most 18 digits; false if not one. */
static bool
handler_parse_count(const char *s, size_t len, unsigned long long *v)
{
	*v = 0;
	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned long long)(s[i] - '0');
	}
	return true;
}

/* Reads and parses the POST body. Returns APIERR_OK with *obj set (a JSON
 * object owned by the caller) or the error to answer. An empty body is
 * an empty object when empty_ok. */
static enum apierr
handler_body(struct handler_task *h, bool empty_ok, struct json_object **obj)
{
	const struct handler_req *req = h->req;
	size_t cap = h->ctx->reg->max_request_body_bytes;
	unsigned long long declared = 0;
	bool have_declared = false;
	char *buf = NULL;
	size_t len = 0, size = 0;
	enum apierr e = APIERR_OK;

	*obj = NULL;
	if (!handler_is_json_type(req->content_type))
		return APIERR_UNSUPPORTED_MEDIA_TYPE;
	if (req->content_length != NULL && req->content_length[0] != '\0') {
		if (!handler_parse_count(req->content_length,
		    strlen(req->content_length), &declared))
			return APIERR_INVALID_REQUEST;
		have_declared = true;
		if (declared > cap)
			return APIERR_REQUEST_TOO_LARGE;
	}

	/* Read at most cap + 1 bytes: one more than allowed proves the
	 * body too large without holding more of it. */
	size = have_declared ? (size_t)declared + 1 : 4096;
	if (size > cap + 1)
		size = cap + 1;
	buf = xmalloc(size + 1);
	for (;;) {
		ssize_t n;

		if (len == size) {
			if (size == cap + 1)
				break;
			size = size * 2 > cap + 1 ? cap + 1 : size * 2;
			buf = xrealloc(buf, size + 1);
		}
		n = req->read_body != NULL ? req->read_body(req->read_arg,
		    buf + len, size - len) : 0;
		if (n < 0) {
			e = APIERR_INVALID_REQUEST;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > cap) {
		e = APIERR_REQUEST_TOO_LARGE;
		goto out;
	}
	/* Fewer bytes than declared: the body was cut (the client or the
	 * connection went away), never a shorter request. */
	if (have_declared && len != (size_t)declared) {
		e = APIERR_INVALID_REQUEST;
		goto out;
	}
	if (len == 0 && empty_ok) {
		*obj = json_object_new_object();
		goto out;
	}
	/* json-c can need hundreds of times a body's bytes (1 MiB of
	 * "{}," is ~265 MiB of hash tables): cost it first, as runtime
	 * answers are (docs/fcgi.md, "Memory per request"). */
	if (!wjson_cost_within(buf, len,
	    wjson_cost_budget(cap, WJSON_COST_FLOOR))) {
		e = APIERR_REQUEST_TOO_LARGE;
		goto out;
	}
	*obj = wjson_parse(buf, len, WJSON_MAX_DEPTH);
	if (*obj == NULL || !json_object_is_type(*obj, json_type_object)) {
		json_object_put(*obj);
		*obj = NULL;
		e = APIERR_INVALID_JSON;
	}
out:
	free(buf);
	return e;
}

/* Member key of obj if it exists; *ok false if it has another type. */
static struct json_object *
handler_field(struct json_object *obj, const char *key, json_type t,
    bool *ok)
{
	struct json_object *m;

	if (!json_object_object_get_ex(obj, key, &m))
		return NULL;
	if (!json_object_is_type(m, t))
		*ok = false;
	return m;
}

/* Field checks wrg makes before calling a runtime; the runtime checks
 * the rest and answers runtime_rejected. Returns NULL or a message. */
static const char *
handler_check_fields(enum route_kind kind, struct json_object *b)
{
	static const char *const lists[] = { "requested_capabilities",
	    "workspace_refs", "mount_refs" };
	bool ok = true;
	const char *s;

	switch (kind) {
	case ROUTE_RUNTIME_WORKERS:
		if (handler_field(b, "intent", json_type_object, &ok) == NULL
		    || !ok)
			return "intent must be an object";
		if (handler_field(b, "profile", json_type_object, &ok) ==
		    NULL || !ok)
			return "profile must be an object";
		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			handler_field(b, lists[i], json_type_array, &ok);
			if (!ok)
				return "workspace, mount and capability "
				    "lists must be arrays";
		}
		handler_field(b, "config_bundle", json_type_object, &ok);
		if (!ok)
			return "config_bundle must be an object";
		return NULL;
	case ROUTE_WORKER_INPUT:
		s = wjson_get_string(b, "kind");
		if (s == NULL || (strcmp(s, "user") != 0 &&
		    strcmp(s, "system") != 0))
			return "kind must be \"user\" or \"system\"";
		if (wjson_get_string(b, "content") == NULL)
			return "content must be a string";
		return NULL;
	case ROUTE_WORKER_STOP:
	case ROUTE_WORKER_CANCEL:
		handler_field(b, "reason", json_type_string, &ok);
		return ok ? NULL : "reason must be a string";
	default:
		return NULL;
	}
}

/* The transcript query: start and limit, decimal, each at most once;
 * other parameters are ignored. Returns the remote query ("" or
 * "?start=..&limit=..", owned by the caller) or NULL if invalid. */
static char *
handler_transcript_query(const char *q)
{
	unsigned long long start = 0, limit = 0;
	bool has_start = false, has_limit = false;

	while (q != NULL && *q != '\0') {
		const char *end = strchr(q, '&');
		size_t len = end != NULL ? (size_t)(end - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t nlen = eq != NULL ? (size_t)(eq - q) : len;
		const char *v = eq != NULL ? eq + 1 : q + len;
		size_t vlen = (size_t)(q + len - v);

		if (nlen == 5 && memcmp(q, "start", 5) == 0) {
			if (has_start || !handler_parse_count(v, vlen, &start)
			    || start > 0x7fffffff)
				return NULL;
			has_start = true;
		} else if (nlen == 5 && memcmp(q, "limit", 5) == 0) {
			if (has_limit || !handler_parse_count(v, vlen, &limit)
			    || limit > 0x7fffffff)
				return NULL;
			has_limit = true;
		}
		q = end != NULL ? end + 1 : q + len;
	}
	if (has_start && has_limit)
		return xasprintf("?start=%llu&limit=%llu", start, limit);
	if (has_start)
		return xasprintf("?start=%llu", start);
	if (has_limit)
		return xasprintf("?limit=%llu", limit);
	return xstrdup("");
}

static void
handler_health(struct handler_task *h)
{
	struct json_object *root = json_object_new_object();

	json_object_object_add(root, "status", json_object_new_string("ok"));
	json_object_object_add(root, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(root, "runtime_count",
	    json_object_new_int64((int64_t)h->ctx->reg->runtime_count));
	resp_json(h->out, 200, root);
}

/* POST routes: body checks, then the call. */
static void
handler_post(struct handler_task *h)
{
	enum route_kind kind = h->route.kind;
	bool empty_ok = kind == ROUTE_WORKER_STOP ||
	    kind == ROUTE_WORKER_CANCEL;
	struct json_object *body = NULL;
	const char *bad;
	enum apierr e;

	e = handler_body(h, empty_ok, &body);
	if (e != APIERR_OK) {
		handler_fail(h, e, NULL);
		return;
	}
	bad = handler_check_fields(kind, body);
	if (bad != NULL) {
		handler_fail(h, APIERR_INVALID_REQUEST, bad);
		goto out;
	}
	if (!handler_single_start(h, true, body))
		handler_fail(h, APIERR_NOT_FOUND, NULL);
out:
	json_object_put(body);
}

/* The debug line every request ends with. */
static void
handler_log_done(const struct handler_task *h)
{
	wlog(WLOG_DEBUG, h->out->request_id, h->rt != NULL ? h->rt->id : NULL,
	    "%s %s -> %d", h->req->method != NULL ? h->req->method : "-",
	    route_name(h->route.kind), h->out->status);
}

/* Routes and validates the request; ends with the response set or with
 * h->calls to run. */
static void
handler_route(struct handler_task *h)
{
	struct handler_ctx *ctx = h->ctx;
	const struct handler_req *req = h->req;
	struct resp *out = h->out;
	const char *uri = req->uri != NULL ? req->uri : "";
	const char *q = strchr(uri, '?');
	size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
	enum route_err rerr;
	char *query;

	h->query = q != NULL ? q + 1 : NULL;
	if (!handler_request_id(ctx->reg->fcgi_trust_request_id,
	    req->request_id, out->request_id) && req->request_id != NULL)
		handler_log_offered(out->request_id, req->request_id,
		    ctx->reg->fcgi_trust_request_id);
	out->head = req->method != NULL && strcmp(req->method, "HEAD") == 0;

	rerr = route_parse(ctx->reg->api_prefix, uri, plen, &h->route);
	out->route = rerr == ROUTE_ERR_NOT_FOUND ? ROUTE_NONE : h->route.kind;
	if (rerr == ROUTE_ERR_NOT_FOUND || h->route.kind == ROUTE_NONE) {
		h->route.kind = ROUTE_NONE;
		handler_fail(h, APIERR_NOT_FOUND, NULL);
		return;
	}
	if (rerr != ROUTE_OK) {
		handler_fail(h, APIERR_INVALID_ID, NULL);
		return;
	}
	if (req->method == NULL ||
	    !route_method_allowed(h->route.kind, req->method)) {
		out->allow = route_allow(h->route.kind);
		handler_fail(h, APIERR_METHOD_NOT_ALLOWED, NULL);
		return;
	}
	if (h->route.runtime_id[0] != '\0') {
		h->rt = registry_find(ctx->reg, h->route.runtime_id);
		out->rt_ref = h->rt != NULL ? h->rt->index + 1 : 0;
		if (h->rt == NULL) {
			wlog(WLOG_INFO, out->request_id, NULL,
			    "unknown runtime id in %s",
			    route_name(h->route.kind));
			resp_error(out, APIERR_RUNTIME_NOT_FOUND,
			    h->route.runtime_id, NULL);
			return;
		}
	}
	if (strcmp(req->method, "POST") == 0) {
		handler_post(h);
		return;
	}

	if (handler_single_start(h, false, NULL))
		return;
	switch (h->route.kind) {
	case ROUTE_HEALTH:
		handler_health(h);
		break;
	case ROUTE_RUNTIMES:
		handler_runtimes(h, HANDLER_ALL_RUNTIMES);
		break;
	case ROUTE_RUNTIME:
		handler_runtimes(h, HANDLER_ONE_RUNTIME);
		break;
	case ROUTE_WORKERS_ALL:
		handler_workers_all(h);
		break;
	case ROUTE_WORKER_TRANSCRIPT:
		query = handler_transcript_query(h->query);
		if (query == NULL) {
			handler_fail(h, APIERR_INVALID_REQUEST, "start and "
			    "limit must be non-negative integers");
			break;
		}
		char *suffix = xasprintf("/transcript%s", query);
		handler_single(h, RTSTATE_OP_READ_TRANSCRIPT,
		    handler_worker_path(&h->route, suffix), NULL,
		    rewrite_transcript, "transcript", 200);
		free(suffix);
		free(query);
		break;
	case ROUTE_WORKER_EVENTS_WS:
		handler_fail(h, APIERR_INVALID_REQUEST, "the events route "
		    "needs a WebSocket upgrade");
		break;
	default:
		handler_fail(h, APIERR_NOT_FOUND, NULL);
		break;
	}
}

struct handler_task *
handler_begin(struct handler_ctx *ctx, const struct handler_req *req,
    struct resp *out)
{
	struct handler_task *h = xcalloc(1, sizeof(*h));

	h->ctx = ctx;
	h->req = req;
	h->out = out;
	h->op = -1;
	handler_route(h);
	if (h->then != HANDLER_THEN_NOTHING && h->ncalls > 0)
		return h;
	/* Nothing to call (a fan-out over no runtime has nothing to
	 * wait for either). */
	handler_task_finish(h);
	return NULL;
}

struct upstream_call *
handler_task_calls(struct handler_task *t, size_t *n)
{
	*n = t->ncalls;
	return t->calls;
}

void
handler_task_finish(struct handler_task *t)
{
	switch (t->then) {
	case HANDLER_THEN_NOTHING:
		break;
	case HANDLER_THEN_SINGLE:
		handler_single_finish(t);
		break;
	case HANDLER_THEN_RUNTIMES:
		handler_runtimes_finish(t);
		break;
	case HANDLER_THEN_WORKERS:
		handler_workers_all_finish(t);
		break;
	}
	handler_log_done(t);
	handler_task_free(t);
}

void
handler_task_free(struct handler_task *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ncalls; i++)
		upstream_call_clear(&t->calls[i]);
	free(t->calls);
	free(t);
}

void
handler_handle(struct handler_ctx *ctx, const struct handler_req *req,
    struct resp *out)
{
	struct handler_task *t = handler_begin(ctx, req, out);
	struct upstream_call *calls;
	size_t n;

	if (t == NULL)
		return;
	calls = handler_task_calls(t, &n);
	upstream_perform(ctx->up, calls, n, out->request_id);
	handler_task_finish(t);
}
