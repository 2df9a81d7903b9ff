/*
 * probe — `wrg.fcgi --probe` (see probe.h): one GET /v1/runtime per
 * runtime, all at once through the same upstream client the gateway
 * uses, so what it reports is what wrg.fcgi would meet.
 */
#include "probe.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "upstream.h"
#include "wjson.h"
#include "xalloc.h"

/* What one runtime answered, in the probe's terms. */
struct probe_result {
	const struct registry_runtime *rt;
	bool up;
	const char *error;	/* short type when down */
	char detail[256];	/* operator text when down */
	long status;		/* HTTP status, 0 if none */
	double latency_ms;
	long long tls_days;	/* valid when has_tls_days */
	bool has_tls_days;
	struct json_object *summary;	/* the RuntimeSummary, owned */
};

/* The report's name for a transport failure. */
static const char *
probe_err_name(enum upstream_err e)
{
	switch (e) {
	case UPSTREAM_OK: break;
	case UPSTREAM_ERR_UNREACHABLE: return "unreachable";
	case UPSTREAM_ERR_TIMEOUT: return "timeout";
	case UPSTREAM_ERR_TLS: return "tls";
	case UPSTREAM_ERR_TOO_LARGE: return "too_large";
	case UPSTREAM_ERR_BAD_RESPONSE: return "bad_response";
	}
	return "unknown";
}

/* cap: the registry's max_upstream_body_bytes (the same parse budget
 * as wrg.fcgi's own answers). */
static void
probe_judge(struct probe_result *r, struct upstream_call *c, size_t cap,
    time_t now)
{
	struct json_object *doc = NULL, *sum;
	size_t budget;

	r->status = c->err == UPSTREAM_OK ? c->status : 0;
	r->latency_ms = (double)c->usec / 1000.0;
	if (c->cert_expires > 0) {
		r->has_tls_days = true;
		/* floor division: an expired certificate is negative */
		long long d = (long long)c->cert_expires - (long long)now;
		r->tls_days = d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
	}
	if (c->err != UPSTREAM_OK) {
		r->error = probe_err_name(c->err);
		snprintf(r->detail, sizeof(r->detail), "%s", c->detail);
		return;
	}
	if (c->status == 401) {
		r->error = "unauthorized";
		snprintf(r->detail, sizeof(r->detail),
		    "the runtime refused the token (HTTP 401)");
		return;
	}
	if (c->status != 200) {
		r->error = "http_status";
		snprintf(r->detail, sizeof(r->detail), "HTTP %ld", c->status);
		return;
	}
	budget = wjson_cost_budget(cap, 0);
	if (wjson_cost_within(c->resp, c->resp_len, budget))
		doc = wjson_parse(c->resp, c->resp_len, 32);
	if (doc == NULL || !json_object_object_get_ex(doc, "runtime", &sum) ||
	    !json_object_is_type(sum, json_type_object)) {
		r->error = "bad_response";
		snprintf(r->detail, sizeof(r->detail),
		    "not a {\"runtime\": RuntimeSummary} answer");
		json_object_put(doc);
		return;
	}
	r->summary = json_object_get(sum);
	json_object_put(doc);
	r->up = true;
}

/* A member of the summary, or NULL. */
static struct json_object *
probe_member(const struct probe_result *r, const char *key)
{
	struct json_object *v;

	if (r->summary == NULL ||
	    !json_object_object_get_ex(r->summary, key, &v))
		return NULL;
	return v;
}

/* Text of a string or integer member for the table: printable ASCII
 * only (a runtime's bytes never reach the terminal raw), "-" if absent. */
static const char *
probe_text(const struct probe_result *r, const char *key, char *buf,
    size_t cap)
{
	struct json_object *v = probe_member(r, key);
	const char *s;
	size_t i;

	if (v == NULL || !(json_object_is_type(v, json_type_string) ||
	    json_object_is_type(v, json_type_int)))
		return "-";
	s = json_object_get_string(v);
	for (i = 0; s[i] && i + 1 < cap; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static void
probe_print_text(const struct probe_result *rs, size_t n, FILE *out)
{
	char a[64], b[64], c[64], d[64];

	fprintf(out, "%-20s %-5s %9s  %s\n", "RUNTIME", "STATE", "LATENCY",
	    "DETAILS");
	for (size_t i = 0; i < n; i++) {
		const struct probe_result *r = &rs[i];
		struct json_object *lim = probe_member(r, "limits"), *v;

		fprintf(out, "%-20s %-5s %7.1fms  ", r->rt->id,
		    r->up ? "up" : "DOWN", r->latency_ms);
		if (!r->up) {
			fprintf(out, "%s: %s", r->error, r->detail);
		} else {
			fprintf(out, "status=%s backend=%s workers=%s",
			    probe_text(r, "status", a, sizeof(a)),
			    probe_text(r, "backend", b, sizeof(b)),
			    probe_text(r, "worker_count", c, sizeof(c)));
			fprintf(out, " runtime_id=%s",
			    probe_text(r, "runtime_id", d, sizeof(d)));
			if (lim != NULL && json_object_object_get_ex(lim,
			    "max_event_batch_items", &v) &&
			    json_object_is_type(v, json_type_int))
				fprintf(out, " max_event_batch=%" PRId64,
				    json_object_get_int64(v));
			if (lim != NULL && json_object_object_get_ex(lim,
			    "max_transcript_projection_items", &v) &&
			    json_object_is_type(v, json_type_int))
				fprintf(out, " max_transcript=%" PRId64,
				    json_object_get_int64(v));
		}
		if (r->has_tls_days)
			fprintf(out, " tls_days_left=%lld", r->tls_days);
		fputc('\n', out);
	}
}

/* Copies the summary members a monitor may want, integers and short
 * strings only (json-c escapes what it writes). */
static void
probe_copy(struct json_object *dst, const struct probe_result *r,
    const char *key, json_type type)
{
	struct json_object *v = probe_member(r, key);

	if (v != NULL && json_object_is_type(v, type))
		json_object_object_add(dst, key, json_object_get(v));
}

static void
probe_print_json(const struct probe_result *rs, size_t n, FILE *out)
{
	struct json_object *root = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	size_t down = 0;

	for (size_t i = 0; i < n; i++) {
		const struct probe_result *r = &rs[i];
		struct json_object *o = json_object_new_object(), *lim;
		char ms[32];

		json_object_object_add(o, "id", json_object_new_string(r->rt->id));
		json_object_object_add(o, "up", json_object_new_boolean(r->up));
		snprintf(ms, sizeof(ms), "%.1f", r->latency_ms);
		json_object_object_add(o, "latency_ms",
		    json_object_new_double_s(atof(ms), ms));
		json_object_object_add(o, "http_status", r->status ?
		    json_object_new_int64(r->status) : NULL);
		if (!r->up) {
			down++;
			json_object_object_add(o, "error",
			    json_object_new_string(r->error));
			json_object_object_add(o, "detail",
			    json_object_new_string(r->detail));
		}
		probe_copy(o, r, "runtime_id", json_type_string);
		probe_copy(o, r, "status", json_type_string);
		probe_copy(o, r, "backend", json_type_string);
		probe_copy(o, r, "worker_count", json_type_int);
		probe_copy(o, r, "active_worker_count", json_type_int);
		lim = probe_member(r, "limits");
		if (lim != NULL && json_object_is_type(lim, json_type_object))
			json_object_object_add(o, "limits", json_object_get(lim));
		json_object_object_add(o, "tls_days_left", r->has_tls_days ?
		    json_object_new_int64(r->tls_days) : NULL);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "runtimes", arr);
	json_object_object_add(root, "up", json_object_new_int64(
	    (int64_t)(n - down)));
	json_object_object_add(root, "down", json_object_new_int64(
	    (int64_t)down));
	fprintf(out, "%s\n", json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int
probe_run(const struct registry *reg, FILE *out, bool json)
{
	size_t n = reg->runtime_count;
	struct upstream_call *calls = xcalloc(n ? n : 1, sizeof(*calls));
	struct probe_result *rs = xcalloc(n ? n : 1, sizeof(*rs));
	struct upstream *up = upstream_new(reg);
	int status = 0;
	time_t now;

	for (size_t i = 0; i < n; i++) {
		calls[i].rt = &reg->runtimes[i];
		calls[i].path = xstrdup("/v1/runtime");
		calls[i].want_cert = true;
		rs[i].rt = &reg->runtimes[i];
	}
	upstream_perform(up, calls, n, "wrg-probe");
	now = time(NULL);
	for (size_t i = 0; i < n; i++) {
		probe_judge(&rs[i], &calls[i], reg->max_upstream_body_bytes,
		    now);
		if (!rs[i].up)
			status = 1;
	}
	if (json)
		probe_print_json(rs, n, out);
	else
		probe_print_text(rs, n, out);
	for (size_t i = 0; i < n; i++) {
		json_object_put(rs[i].summary);
		upstream_call_clear(&calls[i]);
	}
	upstream_free(up);
	free(rs);
	free(calls);
	return status;
}
