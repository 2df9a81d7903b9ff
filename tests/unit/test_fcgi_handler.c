/*
 * Unit tests of wrg.fcgi's request handler, called directly with a
 * hand-built request (no socket): routing, id validation and escaping,
 * body rules (415/413/invalid_json/invalid_request), the upstream error
 * mapping as seen by a browser, response rewriting, the parallel fan-out
 * and the request-id rule. The runtime side is the scripted fake in
 * test_fcgi_fake_upstream.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler.h"
#include "handler_int.h"
#include "test_fcgi_fake_upstream.h"
#include "wjson.h"
#include "wlog.h"


static const char conf[] =
    "{\"api_prefix\": \"/api\","
    " \"limits\": {\"max_request_body_bytes\": 1024},"
    " \"runtimes\": ["
    "  {\"id\": \"tcp-a\", \"base_url\": \"http://127.0.0.1:45678\","
    "   \"token\": \"tok-SECRET-a\"},"
    "  {\"id\": \"sock-b\", \"display_name\": \"Local B\","
    "   \"base_url\": \"unix:/run/secret-dir/b.sock\"}]}";

static struct registry *reg, *reg_main;	/* tests may swap reg */
static struct rtstate *rts;
static struct upstream *up;

/* A request body served from memory, counting what was read. */
struct membody {
	const char *data;
	size_t len, off;
	size_t total_read;
	int reads;
};

static ssize_t
membody_read(void *arg, char *buf, size_t cap)
{
	struct membody *m = arg;
	size_t n = m->len - m->off;

	m->reads++;
	if (n > cap)
		n = cap;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	m->total_read += n;
	return (ssize_t)n;
}

struct result {
	struct resp r;
	struct json_object *json;
	struct membody body;
};

static void
run_full(struct result *res, const char *method, const char *uri,
    const char *ctype, const char *clen, const char *body,
    const char *request_id)
{
	struct handler_ctx ctx = { reg, rts, up, NULL };
	struct handler_req req;

	memset(res, 0, sizeof(*res));
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.uri = uri;
	req.content_type = ctype;
	req.request_id = request_id;
	res->body.data = body ? body : "";
	res->body.len = body ? strlen(body) : 0;
	req.content_length = clen;
	req.read_body = membody_read;
	req.read_arg = &res->body;
	handler_handle(&ctx, &req, &res->r);
	res->json = wjson_parse(res->r.body, res->r.body_len, 64);
	assert_non_null(res->json);
}

static void
run(struct result *res, const char *method, const char *uri)
{
	run_full(res, method, uri, NULL, NULL, NULL, NULL);
}

static void
post(struct result *res, const char *uri, const char *body)
{
	char clen[32];

	snprintf(clen, sizeof(clen), "%zu", strlen(body));
	run_full(res, "POST", uri, "application/json", clen, body, NULL);
}

static void
done(struct result *res)
{
	json_object_put(res->json);
	resp_clear(&res->r);
}

/* Value at a dotted path ("error.code") as a string, or NULL. */
static const char *
jstr(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o;
	    tok = strtok_r(NULL, ".", &save)) {
		struct json_object *m = NULL;

		if (json_object_is_type(o, json_type_array)) {
			if ((size_t)atoi(tok) >= json_object_array_length(o))
				return NULL;
			m = json_object_array_get_idx(o, (size_t)atoi(tok));
		} else if (!json_object_object_get_ex(o, tok, &m)) {
			return NULL;
		}
		o = m;
	}
	if (o == NULL)
		return "null";
	return json_object_get_string(o);
}

/* One expected value of an answer: the value at a dotted path as jstr
 * gives it ("null" for JSON null); want NULL: the path is absent. */
struct jwant {
	const char *path;
	const char *want;
};

/* Checks every row of want[n] against o; a mismatch fails naming the
 * path, what was there and what was wanted. */
static void
assert_json(struct json_object *o, const struct jwant *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = jstr(o, want[i].path);
		bool same = want[i].want == NULL ? got == NULL :
		    got != NULL && strcmp(got, want[i].want) == 0;

		if (!same)
			fail_msg("%s: got %s, want %s", want[i].path,
			    got != NULL ? got : "(absent)",
			    want[i].want != NULL ? want[i].want : "(absent)");
	}
}

static void
assert_error(struct result *res, int status, const char *code)
{
	assert_int_equal(res->r.status, status);
	assert_string_equal(jstr(res->json, "error.code"), code);
	assert_string_equal(jstr(res->json, "error.request_id"),
	    res->r.request_id);
}

/* One request (a POST with body when body is not NULL) whose answer must
 * be the error status/code; a wrong status names the request. The caller
 * checks more, then calls done(res). */
static void
run_error(struct result *res, const char *method, const char *uri,
    const char *body, int status, const char *code)
{
	if (body != NULL) {
		assert_string_equal(method, "POST");
		post(res, uri, body);
	} else {
		run(res, method, uri);
	}
	if (res->r.status != status)
		fail_msg("%s %s: status %d, want %d: %s", method, uri,
		    res->r.status, status, res->r.body);
	assert_error(res, status, code);
}

/* run_error when nothing more is checked; res is done. */
static void
request_error(struct result *res, const char *method, const char *uri,
    const char *body, int status, const char *code)
{
	run_error(res, method, uri, body, status, code);
	done(res);
}

static void
assert_no_secrets(const struct result *res)
{
	static const char *const secrets[] = { "127.0.0.1", "45678",
	    "tok-SECRET-a", "secret-dir", "b.sock", "unix:", "Failed to",
	    "/v1/" };
	char *head = resp_headers(&res->r);

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (res->r.body && strstr(res->r.body, secrets[i]))
			fail_msg("secret '%s' in body %s", secrets[i],
			    res->r.body);
		if (strstr(head, secrets[i]))
			fail_msg("secret '%s' in headers", secrets[i]);
	}
	free(head);
}

static int
setup(void **state)
{
	char *err = NULL;

	(void)state;
	wlog_init("test", WLOG_ERR);
	reg = reg_main = registry_load_buffer("unit.conf", conf, strlen(conf),
	    &err);
	if (reg == NULL)
		fail_msg("config: %s", err);
	rts = rtstate_new(reg->runtime_count);
	up = upstream_new(reg);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fake_reset();
	upstream_free(up);
	rtstate_free(rts);
	registry_free(reg_main);
	return 0;
}

static int
each(void **state)
{
	(void)state;
	fake_reset();
	reg = reg_main;		/* even after a test failed while swapped */
	return 0;
}

static void
test_health(void **state)
{
	static const char *const want[] = { "Status: 200 OK\r\n",
	    "Content-Type: application/json\r\n",
	    "Cache-Control: no-store\r\n",
	    "X-Content-Type-Options: nosniff\r\n", "X-Request-Id: " };
	struct result res;
	char *head;

	(void)state;
	run(&res, "GET", "/api/health");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(jstr(res.json, "status"), "ok");
	assert_string_equal(jstr(res.json, "runtime_count"), "2");
	assert_int_equal(fake_ncalls, 0);
	head = resp_headers(&res.r);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(head, want[i]) == NULL)
			fail_msg("no '%s' in headers %s", want[i], head);
	assert_null(strstr(head, "Allow:"));
	free(head);
	done(&res);

	run(&res, "HEAD", "/api/health?x=1");
	assert_int_equal(res.r.status, 200);
	assert_true(res.r.head);
	done(&res);
}

static void
test_not_found(void **state)
{
	static const char *const uris[] = { "/api", "/api/", "/health",
	    "/apihealth", "/api/nope", "/api/runtimes/tcp-a/x",
	    "/api/runtimes/tcp-a/workers/w/nope", "/api/health/x", "",
	    "/API/health", "/api//health", "/api/workers/w" };

	(void)state;
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		struct result res;

		request_error(&res, "GET", uris[i], NULL, 404, "not_found");
	}
	assert_int_equal(fake_ncalls, 0);
}

/* A method the route does not take: 405 with the route's methods in
 * Allow (the browser API's list, as a header line). */
static void
test_method_not_allowed(void **state)
{
	static const struct {
		const char *method, *uri, *allow;
	} rows[] = {
		{ "DELETE", "/api/health", "GET, HEAD" },
		{ "POST", "/api/runtimes/tcp-a/workers/w1", "GET, HEAD" },
		{ "GET", "/api/runtimes/tcp-a/workers/w1/input", "POST" },
		{ "PUT", "/api/runtimes/tcp-a/workers", "GET, HEAD, POST" },
	};
	struct result res;
	char want[64], *head;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		run_error(&res, rows[i].method, rows[i].uri, NULL, 405,
		    "method_not_allowed");
		snprintf(want, sizeof(want), "\r\nAllow: %s\r\n",
		    rows[i].allow);
		head = resp_headers(&res.r);
		if (strstr(head, want) == NULL)
			fail_msg("%s %s: want Allow: %s in %s",
			    rows[i].method, rows[i].uri, rows[i].allow, head);
		free(head);
		done(&res);
	}
	assert_int_equal(fake_ncalls, 0);
}

/* The unknown runtime is named back (it is the browser's own text). */
static void
test_runtime_not_found(void **state)
{
	static const char *const uris[] = { "/api/runtimes/nope/workers",
	    "/api/runtimes/nope" };
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		run_error(&res, "GET", uris[i], NULL, 404,
		    "runtime_not_found");
		assert_string_equal(jstr(res.json, "error.runtime_id"),
		    "nope");
		done(&res);
	}
	assert_int_equal(fake_ncalls, 0);
}

static void
test_bad_ids(void **state)
{
	static const char *const bad[] = {
	    "/api/runtimes/tcp-a/workers/a%2Fb",
	    "/api/runtimes/tcp-a/workers/..",
	    "/api/runtimes/tcp-a/workers/%2e%2e",
	    "/api/runtimes/tcp-a/workers/.",
	    "/api/runtimes/tcp-a/workers/a%00b",
	    "/api/runtimes/tcp-a/workers/a%0Ab",
	    "/api/runtimes/tcp-a/workers/a%7F",
	    "/api/runtimes/tcp-a/workers/%ff%fe",
	    "/api/runtimes/a%2Fb/workers",
	    "/api/runtimes/rt%20x",
	};
	struct result res;
	char uri[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		request_error(&res, "GET", bad[i], NULL, 400,
		    "invalid_request");
	/* 257 bytes after decoding is one too many; 256 is fine. */
	snprintf(uri, sizeof(uri), "/api/runtimes/tcp-a/workers/%0257d", 0);
	request_error(&res, "GET", uri, NULL, 400, "invalid_request");
	assert_int_equal(fake_ncalls, 0);
	fake_set("tcp-a", UPSTREAM_ERR_UNREACHABLE, 0, NULL);
	snprintf(uri, sizeof(uri), "/api/runtimes/tcp-a/workers/%0256d", 0);
	run(&res, "GET", uri);
	assert_int_equal(fake_ncalls, 1);
	done(&res);
}

/* A browser id reaches the runtime as one escaped path segment. */
static void
test_id_escaping(void **state)
{
	/* { browser URI, path the runtime gets } */
	static const char *const rows[][2] = {
		{ "/api/runtimes/tcp-a/workers/a%20b%3Fc%23d%25e",
		  "/v1/workers/a%20b%3Fc%23d%25e" },
		{ "/api/runtimes/tcp-a/workers/..%5C..%5Cx/transcript",
		  "/v1/workers/..%5C..%5Cx/transcript" },
		{ "/api/runtimes/tcp-a/workers/%C3%BC;x=1&y",
		  "/v1/workers/%C3%BC%3Bx%3D1%26y" },
		{ "/api/runtimes/tcp-a/workers/...", "/v1/workers/..." },
		/* A '%' that is no escape stays a literal byte of the id. */
		{ "/api/runtimes/tcp-a/workers/%zz", "/v1/workers/%25zz" },
	};
	struct result res;

	(void)state;
	fake_set("tcp-a", UPSTREAM_ERR_UNREACHABLE, 0, NULL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		run(&res, "GET", rows[i][0]);
		if (fake_ncalls != i + 1)
			fail_msg("%s: %zu runtime calls", rows[i][0],
			    fake_ncalls);
		if (strcmp(fake_calls[i].path, rows[i][1]) != 0)
			fail_msg("%s: runtime path %s, want %s", rows[i][0],
			    fake_calls[i].path, rows[i][1]);
		done(&res);
	}
}

static void
test_media_type(void **state)
{
	static const char *const bad[] = { NULL, "", "text/plain",
	    "application/x-www-form-urlencoded", "multipart/form-data",
	    "application/jsonx", "application/json-patch+json" };
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_full(&res, "POST", "/api/runtimes/tcp-a/workers/w/input",
		    bad[i], "2", "{}", NULL);
		assert_error(&res, 415, "unsupported_media_type");
		assert_int_equal(res.body.total_read, 0);
		done(&res);
	}
	/* Stop with an empty body still needs the JSON media type. */
	run_full(&res, "POST", "/api/runtimes/tcp-a/workers/w/stop", NULL,
	    "0", "", NULL);
	assert_error(&res, 415, "unsupported_media_type");
	done(&res);
	assert_int_equal(fake_ncalls, 0);

	fake_set("tcp-a", UPSTREAM_ERR_UNREACHABLE, 0, NULL);
	run_full(&res, "POST", "/api/runtimes/tcp-a/workers/w/stop",
	    "Application/JSON; charset=utf-8", "0", "", NULL);
	assert_error(&res, 502, "runtime_unreachable");
	assert_int_equal(fake_ncalls, 1);
	assert_string_equal(fake_calls[0].body, "{}");
	done(&res);
}

static void
test_too_large(void **state)
{
	char *big = malloc(5000);
	struct result res;

	(void)state;
	memset(big, ' ', 4999);
	big[0] = '{';
	big[4998] = '}';
	big[4999] = '\0';
	/* Declared too large: refused before reading a byte. */
	run_full(&res, "POST", "/api/runtimes/tcp-a/workers",
	    "application/json", "4999", big, NULL);
	assert_error(&res, 413, "request_too_large");
	assert_int_equal(res.body.total_read, 0);
	done(&res);
	/* Not declared: read at most cap + 1 bytes, then refused. */
	run_full(&res, "POST", "/api/runtimes/tcp-a/workers",
	    "application/json", NULL, big, NULL);
	assert_error(&res, 413, "request_too_large");
	assert_true(res.body.total_read <= 1025);
	done(&res);
	/* Declared small but longer in fact: the cap still holds. */
	run_full(&res, "POST", "/api/runtimes/tcp-a/workers",
	    "application/json", "10", big, NULL);
	assert_error(&res, 413, "request_too_large");
	assert_true(res.body.total_read <= 1025);
	done(&res);
	run_full(&res, "POST", "/api/runtimes/tcp-a/workers",
	    "application/json", "12abc", "{}", NULL);
	assert_error(&res, 400, "invalid_request");
	done(&res);
	assert_int_equal(fake_ncalls, 0);
	free(big);
}

/* A body within the byte cap whose parse would cost far more than its
 * size (json-c: ~800 bytes per object) is refused before json-c sees
 * it (413); a real request passes. Cap 1 MiB: budget 8 MiB. */
static void
test_body_parse_budget(void **state)
{
	static const char conf_big[] =
	    "{\"limits\": {\"max_request_body_bytes\": 1048576},"
	    " \"runtimes\": [{\"id\": \"tcp-a\","
	    "  \"base_url\": \"http://127.0.0.1:45678\"}]}";
	struct registry *big, *saved = reg;
	struct result res;
	char *err = NULL, *body;
	size_t n = 0;
	int i;

	(void)state;
	big = registry_load_buffer("big.conf", conf_big, strlen(conf_big),
	    &err);
	assert_non_null(big);
	reg = big;
	/* 300 KB of {}: ~100k objects, ~80 MB for json-c. */
	body = malloc(310000);
	assert_non_null(body);
	n += (size_t)sprintf(body, "{\"x\":[{}");
	for (i = 0; i < 100000; i++)
		n += (size_t)sprintf(body + n, ",{}");
	sprintf(body + n, "]}");
	fake_reset();
	run_full(&res, "POST", "/api/runtimes/tcp-a/workers",
	    "application/json", NULL, body, NULL);
	assert_error(&res, 413, "request_too_large");
	done(&res);
	assert_int_equal(fake_ncalls, 0);
	/* The same size in one string costs little: parsed, and refused
	 * only by the field checks. */
	memset(body, 'a', 300000);
	memcpy(body, "{\"x\":\"", 6);
	strcpy(body + 299990, "\"}");
	run_full(&res, "POST", "/api/runtimes/tcp-a/workers",
	    "application/json", NULL, body, NULL);
	assert_error(&res, 400, "invalid_request");
	done(&res);
	free(body);
	reg = saved;
	registry_free(big);
}

static void
test_invalid_json(void **state)
{
	static const char *const bad[] = { "", "[]", "\"x\"", "1", "null",
	    "{", "{\"a\":1}x", "{\"a\":1}{}", "{/*c*/}", "{\"a\":NaN}",
	    "{\"a\":\"\xff\"}" };
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		post(&res, "/api/runtimes/tcp-a/workers/w/input", bad[i]);
		if (strcmp(jstr(res.json, "error.code"), "invalid_json"))
			fail_msg("body %s: %s", bad[i], res.r.body);
		assert_error(&res, 400, "invalid_json");
		done(&res);
	}
	assert_int_equal(fake_ncalls, 0);
}

static void
test_invalid_fields(void **state)
{
	static const struct { const char *uri, *body; } bad[] = {
	    { "/api/runtimes/tcp-a/workers/w/input", "{}" },
	    { "/api/runtimes/tcp-a/workers/w/input",
	      "{\"kind\":\"robot\",\"content\":\"x\"}" },
	    { "/api/runtimes/tcp-a/workers/w/input", "{\"kind\":\"user\"}" },
	    { "/api/runtimes/tcp-a/workers/w/input",
	      "{\"kind\":\"user\",\"content\":5}" },
	    { "/api/runtimes/tcp-a/workers", "{}" },
	    { "/api/runtimes/tcp-a/workers", "{\"intent\":{}}" },
	    { "/api/runtimes/tcp-a/workers",
	      "{\"intent\":\"x\",\"profile\":{}}" },
	    { "/api/runtimes/tcp-a/workers",
	      "{\"intent\":{},\"profile\":{},\"mount_refs\":{}}" },
	    { "/api/runtimes/tcp-a/workers/w/stop", "{\"reason\":1}" },
	    { "/api/runtimes/tcp-a/workers/w/cancel", "{\"reason\":[]}" },
	};
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		request_error(&res, "POST", bad[i].uri, bad[i].body,
		    400, "invalid_request");
	}
	assert_int_equal(fake_ncalls, 0);
}

static const char worker_json[] =
    "{\"worker\": {\"worker_ref\": {\"runtime_id\": \"own-id\","
    " \"worker_id\": \"worker-1\"}, \"runtime_id\": \"own-id\","
    " \"worker_id\": \"worker-1\", \"status\": \"running\","
    " \"intent\": {\"kind\": \"task\", \"objective\": \"x\"},"
    " \"profile\": {\"kind\": \"runtime_default\"},"
    " \"transcript_len\": 0, \"last_event_id\": 1, \"extra\": [1]}}";

static void
test_forward_and_rewrite(void **state)
{
	struct result res;

	(void)state;
	fake_set("tcp-a", UPSTREAM_OK, 200, worker_json);
	post(&res, "/api/runtimes/tcp-a/workers",
	    "{ \"intent\" : {\"kind\":\"task\",\"objective\":\"a\\/b \\u00fc\"},"
	    "\n \"profile\": {\"kind\": \"runtime_default\"} }");
	assert_int_equal(res.r.status, 201);
	assert_int_equal(fake_ncalls, 1);
	assert_true(fake_calls[0].post);
	assert_string_equal(fake_calls[0].path, "/v1/workers");
	/* Re-serialized compactly from the parsed object. */
	assert_string_equal(fake_calls[0].body,
	    "{\"intent\":{\"kind\":\"task\",\"objective\":\"a/b \xc3\xbc\"},"
	    "\"profile\":{\"kind\":\"runtime_default\"}}");
	assert_string_equal(fake_calls[0].request_id, res.r.request_id);
	static const struct jwant created[] = {
		{ "worker.runtime_id", "tcp-a" },
		{ "worker.worker_ref.runtime_id", "tcp-a" },
		{ "worker.worker_id", "worker-1" },
		{ "worker.extra.0", "1" },
		{ "worker.intent.objective", "x" },
	};
	assert_json(res.json, created, sizeof(created) / sizeof(created[0]));
	assert_null(strstr(res.r.body, "own-id"));
	done(&res);

	run(&res, "GET", "/api/runtimes/tcp-a/workers/worker-1");
	assert_int_equal(res.r.status, 200);
	assert_false(fake_calls[1].post);
	assert_string_equal(fake_calls[1].path, "/v1/workers/worker-1");
	assert_string_equal(jstr(res.json, "worker.runtime_id"), "tcp-a");
	done(&res);

	fake_set("tcp-a", UPSTREAM_OK, 200,
	    "{\"ack\": {\"worker_ref\": {\"runtime_id\": \"own-id\","
	    " \"worker_id\": \"worker-1\"}, \"status\": \"running\","
	    " \"transcript_sequence\": 3, \"event_id\": 9}}");
	post(&res, "/api/runtimes/tcp-a/workers/worker-1/input",
	    "{\"kind\":\"user\",\"content\":\"hi\"}");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(fake_calls[2].path, "/v1/workers/worker-1/input");
	assert_string_equal(jstr(res.json, "ack.worker_ref.runtime_id"),
	    "tcp-a");
	assert_string_equal(jstr(res.json, "ack.event_id"), "9");
	done(&res);

	post(&res, "/api/runtimes/tcp-a/workers/worker-1/cancel",
	    "{\"reason\":\"done\"}");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(fake_calls[3].path,
	    "/v1/workers/worker-1/cancel");
	assert_string_equal(fake_calls[3].body, "{\"reason\":\"done\"}");
	done(&res);
}

static void
test_transcript_query(void **state)
{
	static const char tr[] = "{\"transcript\": {\"worker_ref\":"
	    " {\"runtime_id\": \"own\", \"worker_id\": \"w\"}, \"start\": 0,"
	    " \"limit\": 5, \"total_items\": 1, \"items\": [{\"sequence\": 1,"
	    " \"worker_ref\": {\"runtime_id\": \"own\", \"worker_id\": \"w\"},"
	    " \"role\": \"user\", \"content\": \"hi\", \"event_id\": 4}],"
	    " \"next_start\": null}}";
	static const char *const bad[] = { "?start=x", "?limit=-1",
	    "?start=", "?start=1&start=2", "?limit=99999999999",
	    "?limit=1e3", "?start=%31" };
	struct result res;

	(void)state;
	fake_set("sock-b", UPSTREAM_OK, 200, tr);
	run(&res, "GET", "/api/runtimes/sock-b/workers/w/transcript");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(fake_calls[0].path, "/v1/workers/w/transcript");
	assert_string_equal(jstr(res.json, "transcript.items.0.worker_ref."
	    "runtime_id"), "sock-b");
	assert_string_equal(jstr(res.json, "transcript.worker_ref."
	    "runtime_id"), "sock-b");
	assert_string_equal(jstr(res.json, "transcript.next_start"), "null");
	done(&res);
	run(&res, "GET",
	    "/api/runtimes/sock-b/workers/w/transcript?limit=5&x=%2F&start=0");
	assert_string_equal(fake_calls[1].path,
	    "/v1/workers/w/transcript?start=0&limit=5");
	done(&res);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char uri[256];

		snprintf(uri, sizeof(uri),
		    "/api/runtimes/sock-b/workers/w/transcript%s", bad[i]);
		request_error(&res, "GET", uri, NULL, 400, "invalid_request");
	}
	assert_int_equal(fake_ncalls, 2);
}

/* Each upstream outcome as the browser sees it. */
static void
test_upstream_errors(void **state)
{
	static const struct {
		enum upstream_err err;
		long status;
		const char *body;
		int want_status;
		const char *want_code;
	} cases[] = {
	    { UPSTREAM_ERR_UNREACHABLE, 0, NULL, 502, "runtime_unreachable" },
	    { UPSTREAM_ERR_TIMEOUT, 0, NULL, 504, "runtime_timeout" },
	    { UPSTREAM_ERR_TLS, 0, NULL, 502, "runtime_tls_failed" },
	    { UPSTREAM_ERR_TOO_LARGE, 0, NULL, 502, "runtime_bad_response" },
	    { UPSTREAM_ERR_BAD_RESPONSE, 0, NULL, 502,
	      "runtime_bad_response" },
	    { UPSTREAM_OK, 401, "{\"error\":{\"code\":\"unauthorized\","
	      "\"message\":\"bad token tok-SECRET-a\"}}", 502,
	      "runtime_auth_failed" },
	    { UPSTREAM_OK, 500, "{\"error\":{\"code\":\"store_io\","
	      "\"message\":\"cannot write /run/secret-dir/x\"}}", 502,
	      "runtime_error" },
	    { UPSTREAM_OK, 503, "oops", 502, "runtime_error" },
	    { UPSTREAM_OK, 403, "", 502, "runtime_error" },
	    { UPSTREAM_OK, 404, "{\"error\":{\"code\":\"worker_not_found\","
	      "\"message\":\"no worker\"}}", 404, "worker_not_found" },
	    { UPSTREAM_OK, 404, "", 501, "runtime_unsupported" },
	    { UPSTREAM_OK, 405, "Method Not Allowed", 501,
	      "runtime_unsupported" },
	    { UPSTREAM_OK, 302, "", 502, "runtime_bad_response" },
	    { UPSTREAM_OK, 200, "{not json", 502, "runtime_bad_response" },
	    { UPSTREAM_OK, 200, "{\"worker\": []}", 502,
	      "runtime_bad_response" },
	    { UPSTREAM_OK, 200, "{\"worker\": {\"worker_id\": \"w\"}}", 502,
	      "runtime_bad_response" },
	    { UPSTREAM_OK, 200, "", 502, "runtime_bad_response" },
	};
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_set("tcp-a", cases[i].err, cases[i].status,
		    cases[i].body);
		run(&res, "GET", "/api/runtimes/tcp-a/workers/w");
		if (res.r.status != cases[i].want_status)
			fail_msg("case %zu: status %d", i, res.r.status);
		assert_error(&res, cases[i].want_status, cases[i].want_code);
		assert_string_equal(jstr(res.json, "error.runtime_id"),
		    "tcp-a");
		assert_null(jstr(res.json, "error.runtime_code"));
		assert_no_secrets(&res);
		done(&res);
	}
}

/* A runtime's 400/409 with its own error is runtime_rejected with the
 * same status, its code and message passed on (browser-api.md) unless
 * they name the runtime's side: then "unknown" and wrg's own message. */
static void
test_runtime_rejected(void **state)
{
	static const struct {
		long status;
		const char *body;
		const char *uri;
		const char *input;	/* POST body, or NULL for a GET */
		const char *code, *message;	/* as the browser gets them */
	} rows[] = {
		{ 400, "{\"error\":{\"code\":\"limit_too_large\",\"message\":"
		    "\"limit 900 is above 256\"}}",
		  "/api/runtimes/tcp-a/workers/w/transcript?limit=900", NULL,
		  "limit_too_large", "limit 900 is above 256" },
		{ 409, "{\"error\":{\"code\":\"runtime_stopped\",\"message\":"
		    "\"runtime is stopped\"}}",
		  "/api/runtimes/tcp-a/workers/w/input",
		  "{\"kind\":\"user\",\"content\":\"x\"}",
		  "runtime_stopped", "runtime is stopped" },
		/* Ordinary codes, dots included, pass. */
		{ 409, "{\"error\":{\"code\":\"runtime.stopped_2\","
		    "\"message\":\"no\"}}",
		  "/api/runtimes/tcp-a/workers/w", NULL,
		  "runtime.stopped_2", "no" },
		/* A message echoing the upstream location is replaced. */
		{ 400, "{\"error\":{\"code\":\"invalid_request\",\"message\":"
		    "\"bad request to http://127.0.0.1:45678/v1/workers\"}}",
		  "/api/runtimes/tcp-a/workers/w", NULL,
		  "invalid_request", "the runtime rejected the request" },
		{ 400, "{\"error\":{\"code\":\"Weird Code!\",\"message\":"
		    "\"port 45678\"}}",
		  "/api/runtimes/tcp-a/workers/w", NULL,
		  "unknown", "the runtime rejected the request" },
	};
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *code, *message;

		fake_set("tcp-a", UPSTREAM_OK, rows[i].status, rows[i].body);
		if (rows[i].input != NULL)
			post(&res, rows[i].uri, rows[i].input);
		else
			run(&res, "GET", rows[i].uri);
		code = jstr(res.json, "error.runtime_code");
		message = jstr(res.json, "error.message");
		if (res.r.status != rows[i].status || code == NULL ||
		    strcmp(code, rows[i].code) != 0 || message == NULL ||
		    strcmp(message, rows[i].message) != 0)
			fail_msg("runtime %ld %s: got %d %s", rows[i].status,
			    rows[i].body, res.r.status, res.r.body);
		assert_error(&res, (int)rows[i].status, "runtime_rejected");
		assert_no_secrets(&res);
		done(&res);
	}
}

/* The runtime's error code is runtime text too: a code that is a valid
 * identifier but names the runtime's address, port, host or token must
 * not reach the browser, in the body or anywhere else (ordinary codes
 * pass: test_runtime_rejected). */
static void
test_runtime_code_scrubbed(void **state)
{
	static const char *const codes[] = { "127.0.0.1", "45678",
	    "port_45678", "localhost", "10.1.2.3", "x.127.0.0.1.y" };
	struct result res;
	char body[256];

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\","
		    "\"message\":\"no\"}}", codes[i]);
		fake_set("tcp-a", UPSTREAM_OK, 400, body);
		run(&res, "GET", "/api/runtimes/tcp-a/workers/w");
		assert_error(&res, 400, "runtime_rejected");
		if (strcmp(jstr(res.json, "error.runtime_code"), "unknown"))
			fail_msg("code %s passed as %s", codes[i],
			    res.r.body);
		assert_no_secrets(&res);
		done(&res);
	}
}

static const char list_a[] = "{\"workers\": [{\"worker_ref\": "
    "{\"runtime_id\": \"x\", \"worker_id\": \"w1\"}, \"runtime_id\": \"x\","
    " \"worker_id\": \"w1\", \"status\": \"running\"}, {\"worker_ref\": "
    "{\"runtime_id\": \"x\", \"worker_id\": \"w2\"}, \"runtime_id\": \"x\","
    " \"worker_id\": \"w2\", \"status\": \"stopped\"}]}";

static void
test_workers_fanout(void **state)
{
	struct result res;

	(void)state;
	fake_set("tcp-a", UPSTREAM_OK, 200, list_a);
	fake_set("sock-b", UPSTREAM_ERR_TIMEOUT, 0, NULL);
	run(&res, "GET", "/api/workers");
	assert_int_equal(res.r.status, 200);
	assert_int_equal(fake_ncalls, 2);
	assert_int_equal(fake_calls[0].batch, 2);	/* one parallel batch */
	assert_string_equal(fake_calls[0].path, "/v1/workers");
	static const struct jwant merged[] = {
		{ "items.0.runtime_id", "tcp-a" },
		{ "items.1.worker_ref.runtime_id", "tcp-a" },
		{ "items.2", NULL },
		{ "diagnostics.0.runtime_id", "sock-b" },
		{ "diagnostics.0.code", "runtime_timeout" },
		{ "diagnostics.0.severity", "error" },
	};
	assert_json(res.json, merged, sizeof(merged) / sizeof(merged[0]));
	assert_no_secrets(&res);
	done(&res);

	/* A bad shape from one runtime is a diagnostic, not a failure. */
	fake_set("sock-b", UPSTREAM_OK, 200, "{\"workers\": {}}");
	run(&res, "GET", "/api/workers");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(jstr(res.json, "diagnostics.0.code"),
	    "runtime_bad_response");
	done(&res);

	run(&res, "GET", "/api/runtimes/tcp-a/workers");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(jstr(res.json, "items.1.worker_id"), "w2");
	done(&res);
	request_error(&res, "GET", "/api/runtimes/sock-b/workers", NULL,
	    502, "runtime_bad_response");

	/* Lists of several runtimes are joined in registry order, byte for
	 * byte what one JSON object would serialize to. */
	fake_set("sock-b", UPSTREAM_OK, 200, list_a);
	run(&res, "GET", "/api/workers");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(res.r.body, "{\"items\":["
	    "{\"worker_ref\":{\"runtime_id\":\"tcp-a\",\"worker_id\":\"w1\"},"
	    "\"runtime_id\":\"tcp-a\",\"worker_id\":\"w1\",\"status\":\"running\"},"
	    "{\"worker_ref\":{\"runtime_id\":\"tcp-a\",\"worker_id\":\"w2\"},"
	    "\"runtime_id\":\"tcp-a\",\"worker_id\":\"w2\",\"status\":\"stopped\"},"
	    "{\"worker_ref\":{\"runtime_id\":\"sock-b\",\"worker_id\":\"w1\"},"
	    "\"runtime_id\":\"sock-b\",\"worker_id\":\"w1\",\"status\":\"running\"},"
	    "{\"worker_ref\":{\"runtime_id\":\"sock-b\",\"worker_id\":\"w2\"},"
	    "\"runtime_id\":\"sock-b\",\"worker_id\":\"w2\",\"status\":\"stopped\"}"
	    "],\"diagnostics\":[]}");
	assert_int_equal(res.r.body_len, strlen(res.r.body));
	done(&res);
	fake_set("tcp-a", UPSTREAM_ERR_TIMEOUT, 0, NULL);
	fake_set("sock-b", UPSTREAM_OK, 200, "{\"workers\":[]}");
	run(&res, "GET", "/api/workers");
	assert_string_equal(res.r.body, "{\"items\":[],\"diagnostics\":"
	    "[{\"runtime_id\":\"tcp-a\",\"code\":\"runtime_timeout\","
	    "\"severity\":\"error\",\"message\":\"the runtime did not "
	    "answer in time\"}]}");
	done(&res);
}

/* The same runtimes with a 1 KiB answer cap: a parse budget of 8 KiB of
 * json-c tree (APIERR_PARSE_FACTOR). */
static const char conf_small[] =
    "{\"limits\": {\"max_upstream_body_bytes\": 1024},"
    " \"runtimes\": ["
    "  {\"id\": \"tcp-a\", \"base_url\": \"http://127.0.0.1:45678\"},"
    "  {\"id\": \"sock-b\", \"base_url\": \"unix:/run/secret-dir/b.sock\"}]}";

/* An answer under the byte cap whose tree would cost more than the parse
 * budget is refused before json-c builds it, on every path: a list, the
 * aggregate, an error body (neither a rejection nor a router miss). */
static void
test_parse_budget(void **state)
{
	static const char w[] = "{\"worker_id\":\"w\",\"status\":\"s\","
	    "\"worker_ref\":{\"worker_id\":\"w\"}}";
	struct registry *saved = reg, *small;
	char body[1024], err404[1024];
	struct result res;
	char *err = NULL;
	size_t n;

	(void)state;
	small = registry_load_buffer("small.conf", conf_small,
	    strlen(conf_small), &err);
	assert_non_null(small);
	reg = small;
	/* 2 workers: well within the budget. */
	snprintf(body, sizeof(body), "{\"workers\":[%s,%s]}", w, w);
	assert_true(wjson_cost(body, strlen(body)) <= 8 * 1024);
	fake_set("tcp-a", UPSTREAM_OK, 200, body);
	run(&res, "GET", "/api/runtimes/tcp-a/workers");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(jstr(res.json, "items.1.runtime_id"), "tcp-a");
	done(&res);
	/* 6 workers: ~330 bytes, but over 8 KiB of tree. */
	n = (size_t)snprintf(body, sizeof(body), "{\"workers\":[%s", w);
	for (int i = 1; i < 6; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, ",%s", w);
	snprintf(body + n, sizeof(body) - n, "]}");
	assert_true(strlen(body) < 1024);
	assert_true(wjson_cost(body, strlen(body)) > 8 * 1024);
	fake_set("tcp-a", UPSTREAM_OK, 200, body);
	request_error(&res, "GET", "/api/runtimes/tcp-a/workers", NULL,
	    502, "runtime_bad_response");
	fake_set("sock-b", UPSTREAM_OK, 200, "{\"workers\":[]}");
	run(&res, "GET", "/api/workers");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(jstr(res.json, "diagnostics.0.runtime_id"),
	    "tcp-a");
	assert_string_equal(jstr(res.json, "diagnostics.0.code"),
	    "runtime_bad_response");
	assert_null(jstr(res.json, "diagnostics.1"));
	done(&res);
	/* A 404 with such a body: not read, so not "unsupported". */
	snprintf(err404, sizeof(err404), "{\"error\":{\"code\":\"x\"},"
	    "\"pad\":[{},{},{},{},{},{},{},{},{},{},{}]}");
	assert_true(wjson_cost(err404, strlen(err404)) > 8 * 1024);
	fake_set("tcp-a", UPSTREAM_OK, 404, err404);
	request_error(&res, "POST", "/api/runtimes/tcp-a/workers/w/stop", "{}",
	    502, "runtime_bad_response");
	fake_set("tcp-a", UPSTREAM_OK, 400, err404);
	request_error(&res, "POST", "/api/runtimes/tcp-a/workers/w/stop", "{}",
	    502, "runtime_bad_response");
	fake_set("tcp-a", UPSTREAM_OK, 500, err404);
	request_error(&res, "POST", "/api/runtimes/tcp-a/workers/w/stop", "{}",
	    502, "runtime_error");
	fake_set("tcp-a", UPSTREAM_ERR_UNREACHABLE, 0, NULL);
	run(&res, "GET", "/api/runtimes/tcp-a");
	assert_string_equal(jstr(res.json,
	    "runtime.capabilities.stop_worker"), "true");
	done(&res);
	reg = saved;
	registry_free(small);
}

static void
test_runtimes_view(void **state)
{
	struct result res;

	(void)state;
	fake_set("tcp-a", UPSTREAM_OK, 200, "{\"runtime\": {\"runtime_id\":"
	    " \"own\", \"display_name\": \"Own name\", \"backend\": \"memory\","
	    " \"status\": \"running\", \"worker_count\": 3,"
	    " \"active_worker_count\": 2, \"stopped_worker_count\": 1,"
	    " \"cancelled_worker_count\": 0, \"diagnostic_count\": 0,"
	    " \"limits\": {\"max_transcript_projection_items\": 100,"
	    " \"max_event_batch_items\": 256}}}");
	fake_set("sock-b", UPSTREAM_OK, 401, "");
	run(&res, "GET", "/api/runtimes");
	assert_int_equal(res.r.status, 200);
	assert_int_equal(fake_calls[0].batch, 2);
	assert_string_equal(fake_calls[0].path, "/v1/runtime");
	static const struct jwant listed[] = {
		{ "items.0.runtime_id", "tcp-a" },
		{ "items.0.display_name", "Own name" },
		{ "items.0.status", "available" },
		{ "items.0.source.kind", "remote" },
		{ "items.0.source.transport", "http" },
		{ "items.0.summary.worker_count", "3" },
		{ "items.0.summary.runtime_id", NULL },
		{ "items.0.capabilities.max_transcript_items", "100" },
		{ "items.0.capabilities.create_worker", "true" },
		{ "items.0.diagnostics.0", NULL },
		{ "items.1.runtime_id", "sock-b" },
		{ "items.1.display_name", "Local B" },
		{ "items.1.source.kind", "local" },
		{ "items.1.status", "unauthorized" },
		{ "items.1.summary", "null" },
		{ "items.1.diagnostics.0.code", "runtime_auth_failed" },
		{ "diagnostics.0.runtime_id", "sock-b" },
	};
	assert_json(res.json, listed, sizeof(listed) / sizeof(listed[0]));
	assert_no_secrets(&res);
	done(&res);

	/* A runtime's own display name is free text from the remote side:
	 * one naming an address is dropped, not shown. */
	fake_set("tcp-a", UPSTREAM_OK, 200, "{\"runtime\": {\"display_name\":"
	    " \"see http://10.9.8.7:4444/admin\", \"status\": \"running\"}}");
	run(&res, "GET", "/api/runtimes/tcp-a");
	assert_int_equal(res.r.status, 200);
	assert_string_equal(jstr(res.json, "runtime.display_name"), "null");
	assert_no_secrets(&res);
	done(&res);

	/* An operation answered as unsupported reads false afterwards. */
	fake_set("sock-b", UPSTREAM_OK, 404, "");
	request_error(&res, "POST", "/api/runtimes/sock-b/workers/w/cancel",
	    "{}", 501, "runtime_unsupported");
	fake_set("sock-b", UPSTREAM_ERR_UNREACHABLE, 0, NULL);
	run(&res, "GET", "/api/runtimes/sock-b");
	assert_int_equal(res.r.status, 200);
	assert_int_equal(fake_calls[fake_ncalls - 1].batch, 1);
	static const struct jwant unreachable[] = {
		{ "runtime.status", "unreachable" },
		{ "runtime.capabilities.cancel_worker", "false" },
		{ "runtime.capabilities.stop_worker", "true" },
		{ "runtime.diagnostics.0.code", "runtime_unreachable" },
	};
	assert_json(res.json, unreachable,
	    sizeof(unreachable) / sizeof(unreachable[0]));
	assert_no_secrets(&res);
	done(&res);
}

/* Runs one request with wrg's log (stderr) captured into log. */
static void
run_logged(struct result *res, const char *uri, const char *request_id,
    char *log, size_t logsize)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	wlog_init("test", WLOG_INFO);
	run_full(res, "GET", uri, NULL, NULL, NULL, request_id);
	wlog_init("test", WLOG_ERR);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n = fread(log, 1, logsize - 1, f);
	log[n] = '\0';
	fclose(f);
}

/* The same handler with another registry: fcgi.trust_request_id on. */
static const char conf_trusted[] =
    "{\"fcgi\": {\"trust_request_id\": true},"
    " \"runtimes\": ["
    "  {\"id\": \"tcp-a\", \"base_url\": \"http://127.0.0.1:45678\"},"
    "  {\"id\": \"sock-b\", \"base_url\": \"unix:/run/secret-dir/b.sock\"}]}";

static void
test_request_id(void **state)
{
	static const char *const bad[] = { "", "a b", "a\nb", "x/y",
	    "\xc3\xa9", "0123456789012345678901234567890123456789012345678901234"
	    "5678901234" };
	char id[IDS_REQUEST_ID_MAX + 1], id2[IDS_REQUEST_ID_MAX + 1];
	char log[8192];
	struct registry *untrusted = reg, *trusted;
	struct result res;
	char *err = NULL;

	(void)state;
	/* The rule itself. */
	assert_true(handler_request_id(true, "abc-DEF_1.2", id));
	assert_string_equal(id, "abc-DEF_1.2");
	assert_true(handler_request_id(true, "0123456789012345678901234567"
	    "890123456789012345678901234567890123", id));
	assert_int_equal(strlen(id), 64);
	assert_false(handler_request_id(false, "abc-DEF_1.2", id));
	assert_string_not_equal(id, "abc-DEF_1.2");
	assert_int_equal(strlen(id), 22);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(handler_request_id(true, bad[i], id));
		assert_true(ids_request_id_valid(id));
		assert_string_not_equal(id, bad[i]);
	}
	assert_false(handler_request_id(true, NULL, id));
	assert_false(handler_request_id(true, NULL, id2));
	assert_true(ids_request_id_valid(id));
	assert_string_not_equal(id, id2);

	/* Default (untrusted front end): the browser's id is neither
	 * answered, nor sent to the runtime, nor logged as req=; it is
	 * logged as a separate field next to the id wrg chose. */
	fake_set("tcp-a", UPSTREAM_ERR_UNREACHABLE, 0, NULL);
	run_logged(&res, "/api/runtimes/tcp-a/workers", "trace.42", log,
	    sizeof(log));
	assert_string_not_equal(res.r.request_id, "trace.42");
	assert_int_equal(strlen(res.r.request_id), 22);
	assert_true(ids_request_id_valid(res.r.request_id));
	assert_string_equal(fake_calls[0].request_id, res.r.request_id);
	assert_string_equal(jstr(res.json, "error.request_id"),
	    res.r.request_id);
	assert_null(strstr(log, " req=trace.42"));
	snprintf(id, sizeof(id), " req=%s", res.r.request_id);
	assert_non_null(strstr(log, id));
	assert_non_null(strstr(log, "offered_req=trace.42"));
	done(&res);
	/* An invalid offer is never logged, only that there was one. */
	run_logged(&res, "/api/health", "evil\nreq=forged x", log,
	    sizeof(log));
	assert_true(ids_request_id_valid(res.r.request_id));
	assert_null(strstr(log, "evil"));
	assert_null(strstr(log, "forged"));
	assert_non_null(strstr(log, "offered_req=(invalid, 17 bytes)"));
	done(&res);
	/* No offer, nothing to say. */
	run_logged(&res, "/api/health", NULL, log, sizeof(log));
	assert_null(strstr(log, "offered_req"));
	done(&res);

	/* fcgi.trust_request_id: the front end's id is used everywhere. */
	trusted = registry_load_buffer("trusted.conf", conf_trusted,
	    strlen(conf_trusted), &err);
	assert_non_null(trusted);
	reg = trusted;
	fake_reset();
	fake_set("tcp-a", UPSTREAM_ERR_UNREACHABLE, 0, NULL);
	run_logged(&res, "/api/runtimes/tcp-a/workers", "trace.42", log,
	    sizeof(log));
	assert_string_equal(res.r.request_id, "trace.42");
	assert_string_equal(fake_calls[0].request_id, "trace.42");
	assert_string_equal(jstr(res.json, "error.request_id"), "trace.42");
	assert_non_null(strstr(log, "req=trace.42"));
	assert_null(strstr(log, "offered_req"));
	done(&res);
	run_logged(&res, "/api/nope", "bad id!", log, sizeof(log));
	assert_string_not_equal(res.r.request_id, "bad id!");
	assert_true(ids_request_id_valid(res.r.request_id));
	assert_non_null(strstr(log, "offered_req=(invalid, 7 bytes)"));
	done(&res);
	reg = untrusted;
	registry_free(trusted);
}

static void
test_events_route(void **state)
{
	struct result res;

	(void)state;
	request_error(&res, "GET", "/api/runtimes/tcp-a/workers/w/events/ws",
	    NULL, 400, "invalid_request");
	assert_int_equal(fake_ncalls, 0);
}

/* A remote path wrg may produce: /v1/runtime, /v1/workers, or
 * /v1/workers/SEG[/input|/stop|/cancel|/transcript[?start=N][&limit=M]]
 * where SEG is one non-empty escaped segment, never "." or "..". */
static bool
remote_path_ok(const char *p)
{
	static const char *const sfx[] = { "", "/input", "/stop", "/cancel",
	    "/transcript" };
	const char *seg, *end;
	size_t n = 0;

	if (strcmp(p, "/v1/runtime") == 0 || strcmp(p, "/v1/workers") == 0)
		return true;
	if (strncmp(p, "/v1/workers/", 12) != 0)
		return false;
	seg = p + 12;
	for (end = seg; *end && *end != '/'; end++) {
		char c = *end;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '%' || c == '.' ||
		    c == '_' || c == '~' || c == '-'))
			return false;
		n++;
	}
	if (n == 0 || (n == 1 && seg[0] == '.') ||
	    (n == 2 && seg[0] == '.' && seg[1] == '.'))
		return false;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t l = strlen(sfx[i]);

		if (strncmp(end, sfx[i], l) != 0)
			continue;
		if (end[l] == '\0')
			return true;
		if (i == 4 && end[l] == '?') {
			const char *q = end + l + 1;

			if (strncmp(q, "start=", 6) == 0) {
				q += 6;
				if (*q < '0' || *q > '9')
					return false;
				while (*q >= '0' && *q <= '9')
					q++;
				if (*q == '&')
					q++;
				else
					return *q == '\0';
			}
			if (strncmp(q, "limit=", 6) != 0)
				return false;
			q += 6;
			if (*q < '0' || *q > '9')
				return false;
			while (*q >= '0' && *q <= '9')
				q++;
			return *q == '\0';
		}
	}
	return false;
}

static unsigned
xorshift(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (unsigned)(*s >> 11);
}

/* Property test: random requests built from path fragments and hostile
 * bytes. Every answer is JSON with a status from the table; every remote
 * path is one of the shapes above (an id is always exactly one escaped
 * segment); nothing is called for an unknown runtime. */
static void
test_random_requests(void **state)
{
	static const char *const frags[] = { "/api", "/runtimes", "/tcp-a",
	    "/sock-b", "/nope", "/workers", "/w1", "/input", "/stop",
	    "/cancel", "/transcript", "/events", "/ws", "/health", "/",
	    "//", "/..", "/.", "%2F", "%2f", "%00", "%2e%2e", "%", "%G1",
	    "?", "&", "start=", "limit=", "1", "-1", "99999999999", "=",
	    "%3F", "#", ";", "\xc3\xa9", "\xff", "a b", "%0a", "\\", "%5C",
	    "/workers/a%2F..%2Fb", "/transcript?limit=5&start=2" };
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT",
	    "DELETE", "OPTIONS", "get", "" };
	static const int allowed[] = { 200, 201, 400, 404, 405, 409, 413,
	    415, 501, 502, 504 };
	static const char *const bodies[] = { "{}", "", "{\"kind\":\"user\","
	    "\"content\":\"x\"}", "{\"intent\":{},\"profile\":{}}", "[", "{\"a\"",
	    "{\"reason\":\"r\"}", "null" };
	unsigned long long seed = 0x9e3779b97f4a7c15ULL;
	char uri[1024];
	size_t calls = 0, worker_calls = 0;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		struct result res;
		size_t len = 0;
		int nfrag;
		bool ok = false;
		const char *m, *b;

#define RND() xorshift(&seed)
		fake_reset();
		fake_set("tcp-a", UPSTREAM_ERR_UNREACHABLE, 0, NULL);
		if (RND() % 2) {
			/* A well-formed route with a random id: raw safe
			 * bytes or %XX of any byte, then a suffix. */
			static const char *const sfx[] = { "", "/input",
			    "/stop", "/cancel", "/transcript",
			    "/transcript?start=3&limit=4", "/transcript?x=%2F",
			    "/events/ws" };
			static const char safe[] = "abcXYZ019._~-!$'()*+,;=:@";
			int idlen = 1 + (int)(RND() % 12);
			const char *sf = sfx[RND() % (sizeof(sfx) /
			    sizeof(sfx[0]))];

			len = (size_t)snprintf(uri, sizeof(uri),
			    "/api/runtimes/%s/workers/", RND() % 8 ? "tcp-a" :
			    "nope");
			for (int k = 0; k < idlen; k++) {
				if (RND() % 2)
					uri[len++] = safe[RND() %
					    (sizeof(safe) - 1)];
				else
					len += (size_t)snprintf(uri + len, 4,
					    "%%%02X", RND() % 256);
			}
			snprintf(uri + len, sizeof(uri) - len, "%s", sf);
			m = strncmp(sf, "/transcript", 11) == 0 ||
			    sf[0] == '\0' ? "GET" : "POST";
			if (RND() % 8 == 0)
				m = methods[RND() % (sizeof(methods) /
				    sizeof(methods[0]))];
		} else {
			nfrag = 1 + (int)(RND() % 9);
			uri[0] = '\0';
			for (int k = 0; k < nfrag; k++) {
				const char *f = RND() % 3 ? frags[RND() %
				    (sizeof(frags) / sizeof(frags[0]))] :
				    (const char *[]){ "/api", "/runtimes",
				    "/tcp-a", "/workers" }[k % 4];

				if (len + strlen(f) + 1 >= sizeof(uri))
					break;
				memcpy(uri + len, f, strlen(f) + 1);
				len += strlen(f);
			}
			m = methods[RND() % (sizeof(methods) /
			    sizeof(methods[0]))];
		}
		b = bodies[RND() % (sizeof(bodies) / sizeof(bodies[0]))];
		run_full(&res, m, uri, RND() % 4 ? "application/json" :
		    "text/plain", NULL, b, RND() % 2 ? "rid" : "bad id");
		for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]);
		    k++)
			if (res.r.status == allowed[k])
				ok = true;
		if (!ok)
			fail_msg("%s %s: status %d", m, uri, res.r.status);
		for (size_t k = 0; k < fake_ncalls; k++) {
			if (!remote_path_ok(fake_calls[k].path))
				fail_msg("%s %s -> remote %s", m, uri,
				    fake_calls[k].path);
			calls++;
			if (strncmp(fake_calls[k].path, "/v1/workers/", 12) == 0)
				worker_calls++;
		}
		if (strncmp(uri, "/api/runtimes/nope", 18) == 0 &&
		    fake_ncalls != 0)
			fail_msg("%s %s: called a runtime", m, uri);
		assert_no_secrets(&res);
		done(&res);
#undef RND
	}
	/* The generator must reach the runtime often, per-worker routes
	 * included, or the path property proves nothing. */
	if (calls < 500 || worker_calls < 200)
		fail_msg("too few upstream calls: %zu (%zu per worker)", calls,
		    worker_calls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_health, each),
		cmocka_unit_test_setup(test_not_found, each),
		cmocka_unit_test_setup(test_method_not_allowed, each),
		cmocka_unit_test_setup(test_runtime_not_found, each),
		cmocka_unit_test_setup(test_bad_ids, each),
		cmocka_unit_test_setup(test_id_escaping, each),
		cmocka_unit_test_setup(test_media_type, each),
		cmocka_unit_test_setup(test_too_large, each),
		cmocka_unit_test_setup(test_body_parse_budget, each),
		cmocka_unit_test_setup(test_invalid_json, each),
		cmocka_unit_test_setup(test_invalid_fields, each),
		cmocka_unit_test_setup(test_forward_and_rewrite, each),
		cmocka_unit_test_setup(test_transcript_query, each),
		cmocka_unit_test_setup(test_upstream_errors, each),
		cmocka_unit_test_setup(test_runtime_rejected, each),
		cmocka_unit_test_setup(test_runtime_code_scrubbed, each),
		cmocka_unit_test_setup(test_workers_fanout, each),
		cmocka_unit_test_setup(test_parse_budget, each),
		cmocka_unit_test_setup(test_runtimes_view, each),
		cmocka_unit_test_setup(test_request_id, each),
		cmocka_unit_test_setup(test_events_route, each),
		cmocka_unit_test_setup(test_random_requests, each),
	};

	return cmocka_run_group_tests_name("fcgi_handler", tests, setup,
	    teardown);
}
