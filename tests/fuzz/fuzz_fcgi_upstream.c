/*
 * Fuzz target: what wrg.fcgi does with a runtime's answer body — the shape
 * checks and registry-id rewriting of src/rewrite.c for every route kind,
 * and the error-body classification of src/apierr_upstream.c (runtime_rejected
 * code and scrubbed message) for every interesting HTTP status.
 *
 * Input layout: byte 0 picks the function (and for apierr the HTTP
 * status, byte 1 the runtime); the rest is the runtime's body, parsed
 * with wjson_parse exactly as the handler does.
 *
 * Invariants beyond "no crash, no leak":
 *  - a rewrite's output is strict JSON again (wjson_str, then wjson_parse
 *    accepts it) and outlives the runtime's root;
 *  - every runtime_id the worker shapes define (worker, worker_ref, and
 *    any runtime_id member of a worker, ack, transcript or transcript
 *    item object) is the registry id; a runtime summary keeps only its
 *    listed fields, never the runtime's own id;
 *  - apierr: the status/code pair is one of browser-api.md's; a
 *    runtime_rejected carries a [a-z0-9_.]{1,64} code and a message of at
 *    most 300 printable bytes with no host, port, token, path or URL of
 *    any runtime; the error response built from it is strict JSON;
 *  - that runtime_code names no host, port, address, path or token
 *    either (corpus/fcgi_upstream/code-*).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierr_upstream.h"
#include "fuzz_check.h"
#include "registry.h"
#include "resp.h"
#include "rewrite.h"
#include "upstream.h"
#include "wjson.h"
#include "wlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REG_ID "reg-A.1"

static const char conf[] =
    "{\"api_prefix\": \"/api\","
    " \"runtimes\": ["
    "  {\"id\": \"tcp-a\", \"base_url\": \"https://rt.example:8443/base\","
    "   \"token\": \"tok-SECRET-a\"},"
    "  {\"id\": \"sock-b\", \"base_url\": \"unix:/run/secret-dir/b.sock\"}]}";

static const char *const secrets[] = { "rt.example", "8443",
    "tok-SECRET-a", "/base", "/run/secret-dir/b.sock", "localhost", "://",
    "unix:", "/v1/", "Bearer" };

static const long statuses[] = { 200, 204, 299, 300, 400, 401, 403, 404,
    405, 409, 410, 422, 429, 500, 502, 503, 599, 600, 0, -1 };

static struct registry *reg;

/* If o has a runtime_id member, it is the registry id. */
static void
check_own_id(struct json_object *o, const char *what)
{
	struct json_object *m = fuzz_member(o, "runtime_id");
	const char *s;

	if (m == NULL && !(json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "runtime_id", NULL)))
		return;
	s = json_object_is_type(m, json_type_string) ?
	    json_object_get_string(m) : NULL;
	FUZZ_CHECK(s && strcmp(s, REG_ID) == 0, "%s.runtime_id is %s", what,
	    m ? json_object_to_json_string(m) : "null");
}

static void
check_ref(struct json_object *ref, const char *what)
{
	const char *s = fuzz_member_str(ref, "runtime_id");
	const char *w = fuzz_member_str(ref, "worker_id");

	FUZZ_CHECK(s && strcmp(s, REG_ID) == 0, "%s.worker_ref.runtime_id",
	    what);
	FUZZ_CHECK(w && w[0] != '\0', "%s.worker_ref.worker_id", what);
}

static void
check_worker(struct json_object *w)
{
	const char *id = fuzz_member_str(w, "worker_id");

	FUZZ_CHECK(json_object_is_type(w, json_type_object), "worker");
	FUZZ_CHECK(id && id[0] != '\0', "worker_id");
	FUZZ_CHECK(fuzz_member_str(w, "status") != NULL, "worker status");
	FUZZ_CHECK(fuzz_member_str(w, "runtime_id") != NULL,
	    "worker runtime_id");
	check_own_id(w, "worker");
	check_ref(fuzz_member(w, "worker_ref"), "worker");
}

/* The output is strict JSON once serialized. */
static void
check_serializes(struct json_object *out)
{
	size_t len = 0;
	const char *s = wjson_str(out, &len);
	struct json_object *back;

	FUZZ_CHECK(s != NULL && strlen(s) == len, "serialization");
	back = wjson_parse(s, len, WJSON_MAX_DEPTH + 2);
	FUZZ_CHECK(back != NULL, "output is not strict JSON: %s", s);
	json_object_put(back);
}

static void
check_summary(struct json_object *out, struct json_object *rt,
    long max_items, const char *dname)
{
	static const char *const keep[] = { "status", "worker_count",
	    "active_worker_count", "stopped_worker_count",
	    "cancelled_worker_count", "diagnostic_count", "backend",
	    "limits" };
	struct json_object *lim;

	FUZZ_CHECK(json_object_is_type(out, json_type_object), "summary");
	FUZZ_CHECK(fuzz_member_str(out, "status") != NULL, "summary status");
	json_object_object_foreach(out, key, val) {
		bool ok = false;

		(void)val;
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			ok = ok || strcmp(key, keep[i]) == 0;
		FUZZ_CHECK(ok, "summary keeps '%s'", key);
	}
	lim = fuzz_member(fuzz_member(rt, "limits"),
	    "max_transcript_projection_items");
	if (lim != NULL && json_object_is_type(lim, json_type_int))
		FUZZ_CHECK(max_items == (long)json_object_get_int64(lim),
		    "max_transcript");
	else
		FUZZ_CHECK(max_items == -1, "max_transcript without limit");
	FUZZ_CHECK(dname == fuzz_member_str(rt, "display_name"),
	    "display_name");
}

/* Whether s holds a dotted quad: digits '.' digits '.' digits '.' digits. */
static bool
has_ipv4(const char *s)
{
	for (; *s; s++) {
		const char *p = s;
		int parts = 0;

		while (parts < 4 && *p >= '0' && *p <= '9') {
			while (*p >= '0' && *p <= '9')
				p++;
			parts++;
			if (parts < 4 && *p == '.' && p[1] >= '0' && p[1] <= '9')
				p++;
			else
				break;
		}
		if (parts == 4)
			return true;
	}
	return false;
}

/* The runtime_code passed to a browser names nothing of any runtime. */
static void
check_code_clean(const char *code)
{
	/* "Bearer" is no secret in a code ("invalid_bearer"); the rest
	 * are a runtime's host, port, token, paths and URL markers. */
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		FUZZ_CHECK(strcmp(secrets[i], "Bearer") == 0 ||
		    strcasestr(code, secrets[i]) == NULL,
		    "runtime_code has '%s': %s", secrets[i], code);
	FUZZ_CHECK(!has_ipv4(code), "runtime_code is an address: %s", code);
}

static bool
code_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789_.") == n;
}

/* An upstream answer with status through apierr, then resp. */
static void
fuzz_apierr(const uint8_t *data, size_t size)
{
	static const struct {
		int status;
		enum apierr e;
	} allowed[] = {
		{ 200, APIERR_OK }, { 400, APIERR_RUNTIME_REJECTED },
		{ 409, APIERR_RUNTIME_REJECTED },
		{ 404, APIERR_WORKER_NOT_FOUND },
		{ 501, APIERR_RUNTIME_UNSUPPORTED },
		{ 502, APIERR_RUNTIME_AUTH_FAILED },
		{ 502, APIERR_RUNTIME_BAD_RESPONSE },
		{ 502, APIERR_RUNTIME_ERROR },
	};
	struct upstream_call c;
	struct apierr_upstream u;
	struct resp r;
	struct json_object *root;
	bool ok = false;

	memset(&c, 0, sizeof(c));
	c.rt = &reg->runtimes[data[1] % reg->runtime_count];
	c.status = statuses[(data[0] >> 3) % (sizeof(statuses) /
	    sizeof(statuses[0]))];
	c.path = strdup("/v1/workers/w/input");
	c.resp = malloc(size - 2 + 1);
	if (c.path == NULL || c.resp == NULL)
		abort();
	memcpy(c.resp, data + 2, size - 2);
	c.resp[size - 2] = '\0';
	c.resp_len = size - 2;

	apierr_upstream(reg, c.rt, &c, "rid", &u);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ok = ok || (allowed[i].status == u.status &&
		    allowed[i].e == u.err);
	FUZZ_CHECK(ok, "HTTP %ld -> %d %s", c.status, u.status,
	    apierr_code(u.err));
	FUZZ_CHECK((u.err == APIERR_OK) == (c.status >= 200 &&
	    c.status < 300), "HTTP %ld -> %s", c.status, apierr_code(u.err));
	if (u.err == APIERR_RUNTIME_REJECTED) {
		FUZZ_CHECK(code_ok(u.runtime_code), "runtime_code %s",
		    u.runtime_code ? u.runtime_code : "(null)");
		/* A code is runtime text too: scrubbed like the message. */
		for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]);
		    i++)
			FUZZ_CHECK(strstr(u.runtime_code, secrets[i]) == NULL,
			    "runtime_code has '%s'", secrets[i]);
		check_code_clean(u.runtime_code);
		FUZZ_CHECK(u.message != NULL && strlen(u.message) <= 300,
		    "rejected message");
		for (const char *p = u.message; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f,
			    "control byte in message");
		for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]);
		    i++)
			FUZZ_CHECK(strstr(u.message, secrets[i]) == NULL,
			    "message has '%s'", secrets[i]);
		/* Host names are case-insensitive. */
		FUZZ_CHECK(strcasestr(u.message, "rt.example") == NULL,
		    "message names the host: %s", u.message);
	} else {
		FUZZ_CHECK(u.runtime_code == NULL && u.message == NULL,
		    "strings outside runtime_rejected");
	}
	FUZZ_CHECK(!u.unsupported || u.err == APIERR_RUNTIME_UNSUPPORTED,
	    "unsupported flag");
	if (u.err != APIERR_OK) {
		memset(&r, 0, sizeof(r));
		snprintf(r.request_id, sizeof(r.request_id), "rid");
		resp_upstream_error(&r, &u, c.rt->id);
		FUZZ_CHECK(r.status == u.status, "resp status");
		root = wjson_parse(r.body, r.body_len, WJSON_MAX_DEPTH);
		FUZZ_CHECK(root != NULL, "error body %s", r.body);
		FUZZ_CHECK(fuzz_member_str(fuzz_member(root, "error"), "code")
		    != NULL,
		    "error.code");
		json_object_put(root);
		resp_clear(&r);
	}
	apierr_upstream_clear(&u);
	upstream_call_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *root, *out = NULL, *rt;
	/* kinds 0-3: the rewrites of a whole answer body */
	static struct json_object *(*const rewrites[])(struct json_object *,
	    const char *) = { rewrite_worker_list, rewrite_worker_detail,
	    rewrite_ack, rewrite_transcript };
	unsigned kind;
	long max_items = -2;
	const char *dname = "unset";

	if (size < 2)
		return 0;
	if (reg == NULL)
		reg = fuzz_registry("fuzz_fcgi_upstream", conf);
	kind = data[0] & 7;
	if (kind >= 6) {
		fuzz_apierr(data, size);
		return 0;
	}
	root = wjson_parse((const char *)data + 1, size - 1,
	    WJSON_MAX_DEPTH);
	if (root == NULL)
		return 0;
	switch (kind) {
	case 0: case 1: case 2: case 3:
		out = rewrites[kind](root, REG_ID);
		break;
	case 4:
		rt = fuzz_member(root, "runtime");
		out = rewrite_runtime_summary(root, &max_items, &dname);
		if (out != NULL)
			check_summary(out, rt, max_items, dname);
		else
			FUZZ_CHECK(max_items == -1 && dname == NULL,
			    "outputs after a refused summary");
		break;
	default:
		if (rewrite_worker(root, REG_ID))
			out = json_object_get(root);
		break;
	}
	/* The output must not depend on the runtime's root any more. */
	json_object_put(root);
	if (out == NULL)
		return 0;
	check_serializes(out);
	switch (kind) {
	case 0:
		FUZZ_CHECK(json_object_is_type(out, json_type_array), "list");
		for (size_t i = 0; i < json_object_array_length(out); i++)
			check_worker(json_object_array_get_idx(out, i));
		break;
	case 1:
	case 5:
		check_worker(out);
		break;
	case 2:
		FUZZ_CHECK(fuzz_member_str(out, "status") != NULL,
		    "ack status");
		check_own_id(out, "ack");
		check_ref(fuzz_member(out, "worker_ref"), "ack");
		break;
	case 3:
		check_own_id(out, "transcript");
		check_ref(fuzz_member(out, "worker_ref"), "transcript");
		rt = fuzz_member(out, "items");
		FUZZ_CHECK(json_object_is_type(rt, json_type_array), "items");
		for (size_t i = 0; i < json_object_array_length(rt); i++) {
			struct json_object *it =
			    json_object_array_get_idx(rt, i);

			FUZZ_CHECK(json_object_is_type(it, json_type_object),
			    "item");
			check_own_id(it, "transcript item");
			if (fuzz_member(it, "worker_ref") != NULL ||
			    json_object_object_get_ex(it, "worker_ref", NULL))
				check_ref(fuzz_member(it, "worker_ref"),
				    "item");
		}
		break;
	default:
		break;
	}
	json_object_put(out);
	return 0;
}
