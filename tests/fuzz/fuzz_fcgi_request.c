/*
 * Fuzz target: wrg.fcgi's request handler (src/handler.c) with the real
 * router, body reader, field checks, error mapping and rewriting, and the
 * scripted fake of upstream.c from the unit tests in place of libcurl
 * (tests/unit/test_fcgi_fake_upstream.c), so nothing touches a socket.
 *
 * Input layout:
 *   byte 0  method (table below)
 *   byte 1  low 3 bits: Content-Type; high 5 bits: Content-Length mode
 *   byte 2  outcome of runtime "tcp-a" (table below)
 *   byte 3  outcome of runtime "sock-b"
 *   byte 4  low 4 bits: body read chunk (0 = as much as asked);
 *           bit 4: the body read fails after the first chunk;
 *           high 3 bits: X-Request-Id (table below)
 *   then    REQUEST_URI NUL request-body NUL upstream-answer-body
 * (a missing NUL ends the field at the end of the input).
 *
 * Invariants beyond "no crash, no leak":
 *  - the status is one of browser-api.md's, the body is strict JSON,
 *    errors carry a known code with its status and the response's
 *    request id, the header block cannot be split by the request;
 *  - no error message and no header carries a runtime's host, port,
 *    token, socket path, a URL or curl's error text; the token and curl's
 *    text appear nowhere in the response unless the input holds them;
 *  - every remote call starts with "/v1/", goes to the route's runtime,
 *    and carries the worker id as exactly one escaped segment that
 *    decodes back to the id the router accepted; only a routed, allowed
 *    request to a configured runtime calls anything;
 *  - every runtime_id / worker_ref.runtime_id of a 2xx body is the
 *    registry id;
 *  - a runtime_rejected's runtime_code holds none of the secrets either
 *    (corpus/fcgi_request/code-*).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fuzz_check.h"
#include "handler.h"
#include "test_fcgi_fake_upstream.h"
#include "ids.h"
#include "route.h"
#include "wjson.h"
#include "wlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf[] =
    "{\"api_prefix\": \"/api\","
    " \"limits\": {\"max_request_body_bytes\": 1024},"
    " \"runtimes\": ["
    "  {\"id\": \"tcp-a\", \"base_url\": \"http://127.0.0.1:45678/base\","
    "   \"token\": \"tok-SECRET-a\"},"
    "  {\"id\": \"sock-b\","
    "   \"display_name\": \"Local B\","
    "   \"base_url\": \"unix:/run/secret-dir/b.sock\"}]}";

static const char *const methods[] = { "GET", "POST", "HEAD", "PUT",
    "DELETE", "OPTIONS", "get", "", NULL, "POST\r\nX-Evil: 1", "GETX",
    "post" };

static const char *const ctypes[] = { NULL, "application/json",
    "application/json; charset=utf-8", "Application/JSON",
    " application/json\t", "application/jsonx", "text/plain", "" };

static const char *const request_ids[] = { NULL, "rid-1", "bad id",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "", "r\r\nX-Evil: 1", "r.1_-" };

static const struct {
	enum upstream_err err;
	long status;
} outcomes[] = {
	{ UPSTREAM_OK, 200 }, { UPSTREAM_OK, 201 }, { UPSTREAM_OK, 400 },
	{ UPSTREAM_OK, 401 }, { UPSTREAM_OK, 404 }, { UPSTREAM_OK, 405 },
	{ UPSTREAM_OK, 409 }, { UPSTREAM_OK, 500 }, { UPSTREAM_OK, 503 },
	{ UPSTREAM_OK, 302 }, { UPSTREAM_OK, 418 },
	{ UPSTREAM_ERR_UNREACHABLE, 0 }, { UPSTREAM_ERR_TIMEOUT, 0 },
	{ UPSTREAM_ERR_TLS, 0 }, { UPSTREAM_ERR_TOO_LARGE, 0 },
	{ UPSTREAM_ERR_BAD_RESPONSE, 0 },
};

/* Browser status -> the codes that may come with it. */
static const struct {
	int status;
	const char *code;
} codes[] = {
	{ 400, "invalid_json" }, { 400, "invalid_request" },
	{ 404, "not_found" }, { 404, "runtime_not_found" },
	{ 404, "worker_not_found" }, { 405, "method_not_allowed" },
	{ 413, "request_too_large" }, { 415, "unsupported_media_type" },
	{ 400, "runtime_rejected" }, { 409, "runtime_rejected" },
	{ 501, "runtime_unsupported" }, { 502, "runtime_unreachable" },
	{ 502, "runtime_auth_failed" }, { 502, "runtime_tls_failed" },
	{ 502, "runtime_bad_response" }, { 502, "runtime_error" },
	{ 504, "runtime_timeout" },
};

/* Never in an error message or a header, whatever the input (what
 * apierr_scrub refuses in a runtime's rejection message). The port is
 * checked in messages only: a generated request id could hold it. */
static const char *const secrets[] = { "127.0.0.1", "tok-SECRET-a",
    "/run/secret-dir/b.sock", "unix:", "://", "/v1/", "Bearer",
    "localhost", "/base", "45678" };
#define ALL_SECRETS (sizeof(secrets) / sizeof(secrets[0]))
#define SECRETS_IN_HEADERS (sizeof(secrets) / sizeof(secrets[0]) - 1)

/* Never anywhere in the response unless the input holds it: the token,
 * curl's error text (the fake's detail) and the socket directory. */
static const char *const private_text[] = { "tok-SECRET-a", "Failed to",
    "secret-dir" };

static struct registry *reg;
static struct upstream *up;

struct membody {
	const char *data;
	size_t len, off;
	size_t chunk;		/* 0: as much as asked */
	bool fail;		/* -1 after the first read */
	int reads;
};

static ssize_t
membody_read(void *arg, char *buf, size_t cap)
{
	struct membody *m = arg;
	size_t n = m->len - m->off;

	if (m->fail && m->reads > 0)
		return -1;
	m->reads++;
	if (n > cap)
		n = cap;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static bool
is_registry_id(const char *s)
{
	return s && (strcmp(s, "tcp-a") == 0 || strcmp(s, "sock-b") == 0);
}

/* A worker shape as the browser gets it: both ids are rt_id (NULL: any
 * registry id, the same for both). */
static void
check_worker(struct json_object *w, const char *rt_id)
{
	const char *a = fuzz_member_str(w, "runtime_id");
	const char *b = fuzz_member_str(fuzz_member(w, "worker_ref"),
	    "runtime_id");

	FUZZ_CHECK(a && b && strcmp(a, b) == 0, "worker ids %s/%s",
	    a ? a : "-", b ? b : "-");
	FUZZ_CHECK(rt_id ? strcmp(a, rt_id) == 0 : is_registry_id(a),
	    "worker runtime_id %s", a);
	FUZZ_CHECK(fuzz_member_str(w, "worker_id") != NULL &&
	    fuzz_member_str(w, "worker_id")[0] != '\0', "worker without id");
}

static void
check_ref(struct json_object *ref, const char *rt_id)
{
	const char *a = fuzz_member_str(ref, "runtime_id");

	FUZZ_CHECK(a && strcmp(a, rt_id) == 0, "worker_ref.runtime_id %s",
	    a ? a : "-");
}

/* A runtime_id member of an ack, transcript or item, if any, is the
 * registry id too. */
static void
check_own_id(struct json_object *o, const char *rt_id)
{
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "runtime_id", NULL))
		return;
	FUZZ_CHECK(fuzz_member_str(o, "runtime_id") != NULL &&
	    strcmp(fuzz_member_str(o, "runtime_id"), rt_id) == 0,
	    "runtime_id of an ack/transcript/item is not the registry id");
}

static void
check_no_secret(const char *what, const char *s, size_t nsecrets)
{
	for (size_t i = 0; s && i < nsecrets; i++)
		FUZZ_CHECK(strstr(s, secrets[i]) == NULL, "%s has '%s': %s",
		    what, secrets[i], s);
}

static void
check_diagnostics(struct json_object *diags)
{
	FUZZ_CHECK(json_object_is_type(diags, json_type_array),
	    "diagnostics not an array");
	for (size_t i = 0; i < json_object_array_length(diags); i++) {
		struct json_object *d = json_object_array_get_idx(diags, i);
		const char *sev = fuzz_member_str(d, "severity");

		FUZZ_CHECK(is_registry_id(fuzz_member_str(d, "runtime_id")),
		    "diagnostic runtime_id");
		FUZZ_CHECK(fuzz_member_str(d, "code") != NULL,
		    "diagnostic code");
		FUZZ_CHECK(sev && (strcmp(sev, "info") == 0 ||
		    strcmp(sev, "warning") == 0 || strcmp(sev, "error") == 0),
		    "diagnostic severity");
		FUZZ_CHECK(fuzz_member_str(d, "message") != NULL,
		    "diag message");
		check_no_secret("diagnostic message",
		    fuzz_member_str(d, "message"), ALL_SECRETS);
	}
}

static void
check_runtime_view(struct json_object *v, const char *rt_id)
{
	static const char *const st[] = { "available", "unreachable",
	    "unauthorized", "timeout", "error" };
	const char *id = fuzz_member_str(v, "runtime_id");
	const char *s = fuzz_member_str(v, "status");
	bool ok = false;

	FUZZ_CHECK(rt_id ? id && strcmp(id, rt_id) == 0 : is_registry_id(id),
	    "runtime view id %s", id ? id : "-");
	for (size_t i = 0; s && i < sizeof(st) / sizeof(st[0]); i++)
		ok = ok || strcmp(s, st[i]) == 0;
	FUZZ_CHECK(ok, "runtime view status %s", s ? s : "-");
	FUZZ_CHECK((fuzz_member(v, "summary") == NULL) ==
	    (strcmp(s, "available") != 0), "summary vs status %s", s);
	FUZZ_CHECK(fuzz_member(fuzz_member(v, "summary"), "runtime_id")
	    == NULL,
	    "summary keeps the runtime's own id");
	check_diagnostics(fuzz_member(v, "diagnostics"));
}

/* The 2xx body for route kind r (rt_id: the route's runtime). */
/* The "items" member of a list answer must be an array; each item is
 * checked with check (runtime id rt_id, NULL: any). */
static void
check_items(struct json_object *root,
    void (*check)(struct json_object *, const char *), const char *rt_id)
{
	struct json_object *m = fuzz_member(root, "items");

	FUZZ_CHECK(json_object_is_type(m, json_type_array), "items");
	for (size_t i = 0; i < json_object_array_length(m); i++)
		check(json_object_array_get_idx(m, i), rt_id);
}

static void
check_success(struct json_object *root, const struct route *r,
    const char *method, const char *rt_id)
{
	struct json_object *m;
	bool post = strcmp(method, "POST") == 0;

	switch (r->kind) {
	case ROUTE_HEALTH:
		FUZZ_CHECK(fuzz_member_str(root, "status") != NULL, "health");
		break;
	case ROUTE_RUNTIMES:
		check_items(root, check_runtime_view, NULL);
		check_diagnostics(fuzz_member(root, "diagnostics"));
		break;
	case ROUTE_RUNTIME:
		check_runtime_view(fuzz_member(root, "runtime"), rt_id);
		break;
	case ROUTE_WORKERS_ALL:
	case ROUTE_RUNTIME_WORKERS:
		if (post) {
			check_worker(fuzz_member(root, "worker"), rt_id);
			break;
		}
		check_items(root, check_worker,
		    r->kind == ROUTE_WORKERS_ALL ? NULL : rt_id);
		if (r->kind == ROUTE_WORKERS_ALL)
			check_diagnostics(fuzz_member(root, "diagnostics"));
		break;
	case ROUTE_WORKER:
		check_worker(fuzz_member(root, "worker"), rt_id);
		break;
	case ROUTE_WORKER_INPUT:
	case ROUTE_WORKER_STOP:
	case ROUTE_WORKER_CANCEL:
		check_ref(fuzz_member(fuzz_member(root, "ack"), "worker_ref"),
		    rt_id);
		check_own_id(fuzz_member(root, "ack"), rt_id);
		break;
	case ROUTE_WORKER_TRANSCRIPT:
		m = fuzz_member(root, "transcript");
		check_own_id(m, rt_id);
		check_ref(fuzz_member(m, "worker_ref"), rt_id);
		m = fuzz_member(m, "items");
		FUZZ_CHECK(json_object_is_type(m, json_type_array),
		    "transcript items");
		for (size_t i = 0; i < json_object_array_length(m); i++) {
			struct json_object *it =
			    json_object_array_get_idx(m, i);

			check_own_id(it, rt_id);
			if (fuzz_member(it, "worker_ref") != NULL)
				check_ref(fuzz_member(it, "worker_ref"),
				    rt_id);
		}
		break;
	default:
		FUZZ_CHECK(0, "2xx for route %s", route_name(r->kind));
	}
}

/* "" or "?start=D", "?limit=D", "?start=D&limit=D". */
static bool
transcript_query_ok(const char *q)
{
	static const char *const keys[] = { "start=", "limit=" };

	if (*q == '\0')
		return true;
	if (*q++ != '?')
		return false;
	for (size_t k = 0; k < 2; k++) {
		size_t n = 0;

		if (strncmp(q, keys[k], 6) != 0)
			continue;
		q += 6;
		while (q[n] >= '0' && q[n] <= '9')
			n++;
		if (n == 0)
			return false;
		q += n;
		if (*q == '\0')
			return true;
		if (*q++ != '&' || k == 1)
			return false;
	}
	return false;
}

/* One remote path against the route the browser asked for. */
static void
check_remote_path(const struct fake_call *c, const struct route *r,
    const char *uri)
{
	static const char *const sfx[] = {
		[ROUTE_WORKER] = "", [ROUTE_WORKER_INPUT] = "/input",
		[ROUTE_WORKER_STOP] = "/stop",
		[ROUTE_WORKER_CANCEL] = "/cancel",
		[ROUTE_WORKER_TRANSCRIPT] = "/transcript",
	};
	const char *p = c->path, *seg, *end, *want;
	char dec[IDS_WORKER_ID_MAX * 3 + 1];
	size_t n;

	FUZZ_CHECK(strncmp(p, "/v1/", 4) == 0, "%s -> %s", uri, p);
	switch (r->kind) {
	case ROUTE_RUNTIMES:
	case ROUTE_RUNTIME:
		FUZZ_CHECK(strcmp(p, "/v1/runtime") == 0, "%s -> %s", uri, p);
		return;
	case ROUTE_WORKERS_ALL:
	case ROUTE_RUNTIME_WORKERS:
		FUZZ_CHECK(strcmp(p, "/v1/workers") == 0, "%s -> %s", uri, p);
		return;
	case ROUTE_WORKER:
	case ROUTE_WORKER_INPUT:
	case ROUTE_WORKER_STOP:
	case ROUTE_WORKER_CANCEL:
	case ROUTE_WORKER_TRANSCRIPT:
		break;
	default:
		FUZZ_CHECK(0, "%s (%s) called %s", uri, route_name(r->kind),
		    p);
	}
	FUZZ_CHECK(strncmp(p, "/v1/workers/", 12) == 0, "%s -> %s", uri, p);
	seg = p + 12;
	end = seg + strcspn(seg, "/?");
	n = fuzz_decode_segment(seg, (size_t)(end - seg), dec, sizeof(dec),
	    p);
	FUZZ_CHECK(n == r->worker_id_len && memcmp(dec, r->worker_id, n) == 0,
	    "%s -> segment of %s is not the routed worker id", uri, p);
	FUZZ_CHECK(!(n == 1 && seg[0] == '.') &&
	    !(n == 2 && seg[0] == '.' && seg[1] == '.'),
	    "%s -> dot segment %s", uri, p);
	want = sfx[r->kind];
	FUZZ_CHECK(strncmp(end, want, strlen(want)) == 0, "%s -> suffix %s",
	    uri, p);
	end += strlen(want);
	if (r->kind == ROUTE_WORKER_TRANSCRIPT)
		FUZZ_CHECK(transcript_query_ok(end), "%s -> query %s", uri, p);
	else
		FUZZ_CHECK(*end == '\0', "%s -> trailing %s", uri, p);
}

/* Header block: CRLF lines only, the blank line only at the end. */
static void
check_headers(const struct resp *r)
{
	char *h = resp_headers(r);
	size_t len = strlen(h);

	FUZZ_CHECK(len >= 4 && strcmp(h + len - 4, "\r\n\r\n") == 0,
	    "header end");
	for (size_t i = 0; i < len; i++) {
		if (h[i] == '\r')
			FUZZ_CHECK(h[i + 1] == '\n', "bare CR in headers");
		if (h[i] == '\n')
			FUZZ_CHECK(i > 0 && h[i - 1] == '\r',
			    "bare LF in headers");
		if (h[i] == '\n' && h[i + 1] == '\r')
			FUZZ_CHECK(i + 3 == len, "blank line inside "
			    "headers: %s", h);
	}
	check_no_secret("headers", h, SECRETS_IN_HEADERS);
	free(h);
}

static bool
input_has(const uint8_t *data, size_t size, const char *s)
{
	return memmem(data, size, s, strlen(s)) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct handler_ctx ctx;
	struct handler_req req;
	struct resp out;
	struct membody mb;
	struct route r;
	const uint8_t *p = data + 5;
	size_t left;
	char *uri, *body, *upbody, clen[32];
	const char *method, *rid, *q;
	struct json_object *root, *err;
	enum route_err rerr;
	bool routed_ok;
	unsigned clmode;

	if (size < 5)
		return 0;
	if (reg == NULL) {
		reg = fuzz_registry("fuzz_fcgi_request", conf);
		up = upstream_new(reg);
	}
	left = size - 5;
	uri = fuzz_take_field(&p, &left);
	body = fuzz_take_field(&p, &left);
	upbody = strndup((const char *)p, left);
	if (upbody == NULL)
		abort();

	method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	rid = request_ids[(data[4] >> 5) % (sizeof(request_ids) /
	    sizeof(request_ids[0]))];
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.uri = uri;
	req.content_type = ctypes[data[1] & 7];
	req.request_id = rid;
	clmode = (unsigned)(data[1] >> 3) % 10;
	switch (clmode) {
	case 0: req.content_length = NULL; break;
	case 1: req.content_length = ""; break;
	case 2: case 3: case 4:
		snprintf(clen, sizeof(clen), "%zu", strlen(body));
		req.content_length = clen;
		break;
	case 5:
		snprintf(clen, sizeof(clen), "%zu", strlen(body) / 2);
		req.content_length = clen;
		break;
	case 6:
		snprintf(clen, sizeof(clen), "%zu", strlen(body) + 100);
		req.content_length = clen;
		break;
	case 7: req.content_length = "1025"; break;
	case 8: req.content_length = "99999999999999999999"; break;
	default: req.content_length = "-1"; break;
	}
	memset(&mb, 0, sizeof(mb));
	mb.data = body;
	mb.len = strlen(body);
	mb.chunk = data[4] & 15;
	mb.fail = (data[4] & 16) != 0;
	req.read_body = membody_read;
	req.read_arg = &mb;

	fake_reset();
	fake_set("tcp-a", outcomes[data[2] % 16].err,
	    outcomes[data[2] % 16].status, upbody);
	fake_set("sock-b", outcomes[data[3] % 16].err,
	    outcomes[data[3] % 16].status, upbody);

	ctx.reg = reg;
	ctx.rts = rtstate_new(reg->runtime_count);
	ctx.up = up;
	ctx.metrics = NULL;
	memset(&out, 0, sizeof(out));
	handler_handle(&ctx, &req, &out);

	/* The route as the router sees it, to judge the remote calls. */
	q = strchr(uri, '?');
	rerr = route_parse("/api", uri, q ? (size_t)(q - uri) : strlen(uri),
	    &r);
	routed_ok = rerr == ROUTE_OK && r.kind != ROUTE_NONE &&
	    method != NULL && route_method_allowed(r.kind, method) &&
	    (r.runtime_id[0] == '\0' || is_registry_id(r.runtime_id));

	/* Status, body, request id, headers. */
	FUZZ_CHECK(out.body != NULL && out.body_len == strlen(out.body),
	    "body");
	root = wjson_parse(out.body, out.body_len, WJSON_MAX_DEPTH);
	FUZZ_CHECK(root != NULL && json_object_is_type(root,
	    json_type_object), "body not a JSON object: %s", out.body);
	FUZZ_CHECK(ids_request_id_valid(out.request_id), "request id %s",
	    out.request_id);
	/* fcgi.trust_request_id is off here: a browser never chooses. */
	if (rid != NULL)
		FUZZ_CHECK(strcmp(out.request_id, rid) != 0, "request id");
	FUZZ_CHECK(out.head == (method != NULL && strcmp(method, "HEAD") ==
	    0), "head flag");
	FUZZ_CHECK((out.allow != NULL) == (out.status == 405), "Allow");
	check_headers(&out);
	for (size_t i = 0; i < sizeof(private_text) / sizeof(private_text[0]);
	    i++)
		FUZZ_CHECK(input_has(data, size, private_text[i]) ||
		    strstr(out.body, private_text[i]) == NULL,
		    "'%s' leaked: %s", private_text[i], out.body);

	err = fuzz_member(root, "error");
	if (out.status == 200 || out.status == 201) {
		FUZZ_CHECK(err == NULL, "2xx with error");
		FUZZ_CHECK(routed_ok, "2xx for an unrouted request");
		FUZZ_CHECK(out.status == 200 || (r.kind ==
		    ROUTE_RUNTIME_WORKERS && strcmp(method, "POST") == 0),
		    "201 for %s", route_name(r.kind));
		check_success(root, &r, method, r.runtime_id);
	} else {
		const char *code = fuzz_member_str(err, "code");
		const char *rid_out = fuzz_member_str(err, "request_id");
		const char *rtid = fuzz_member_str(err, "runtime_id");
		bool known = false;

		for (size_t i = 0; code && i < sizeof(codes) /
		    sizeof(codes[0]); i++)
			known = known || (codes[i].status == out.status &&
			    strcmp(codes[i].code, code) == 0);
		FUZZ_CHECK(known, "status %d code %s", out.status,
		    code ? code : "-");
		FUZZ_CHECK(rid_out && strcmp(rid_out, out.request_id) == 0,
		    "error.request_id");
		FUZZ_CHECK(fuzz_member_str(err, "message") != NULL, "message");
		check_no_secret("error message", fuzz_member_str(err,
		    "message"),
		    ALL_SECRETS);
		if (strcmp(code, "runtime_rejected") == 0) {
			const char *rc = fuzz_member_str(err, "runtime_code");

			FUZZ_CHECK(rc && strlen(rc) >= 1 && strlen(rc) <= 64 &&
			    strspn(rc, "abcdefghijklmnopqrstuvwxyz"
			    "0123456789_.") == strlen(rc), "runtime_code");
			check_no_secret("runtime_code", rc, ALL_SECRETS);
			FUZZ_CHECK(strlen(fuzz_member_str(err, "message"))
			    <= 300,
			    "rejected message length");
		}
		if (rtid != NULL && strcmp(code, "runtime_not_found") != 0)
			FUZZ_CHECK(is_registry_id(rtid), "error runtime_id");
		if (strcmp(code, "runtime_not_found") == 0)
			FUZZ_CHECK(rtid && strcmp(rtid, r.runtime_id) == 0,
			    "runtime_not_found id");
	}

	/* What went to the runtimes. */
	FUZZ_CHECK(fake_ncalls == 0 || routed_ok, "%s %s called a runtime",
	    method ? method : "(null)", uri);
	for (size_t k = 0; k < fake_ncalls; k++) {
		const struct fake_call *c = &fake_calls[k];

		check_remote_path(c, &r, uri);
		FUZZ_CHECK(is_registry_id(c->rt), "call to %s", c->rt);
		if (r.runtime_id[0] != '\0')
			FUZZ_CHECK(strcmp(c->rt, r.runtime_id) == 0,
			    "call to %s for %s", c->rt, r.runtime_id);
		FUZZ_CHECK(c->post == (strcmp(method, "POST") == 0),
		    "remote method");
		FUZZ_CHECK(strcmp(c->request_id, out.request_id) == 0,
		    "remote request id");
		if (c->post && strlen(c->body) + 1 < sizeof(c->body)) {
			struct json_object *b = wjson_parse(c->body,
			    strlen(c->body), WJSON_MAX_DEPTH);

			FUZZ_CHECK(b && json_object_is_type(b,
			    json_type_object), "remote body %s", c->body);
			json_object_put(b);
		}
	}

	json_object_put(root);
	resp_clear(&out);
	rtstate_free(ctx.rts);
	fake_reset();
	free(uri);
	free(body);
	free(upbody);
	return 0;
}
