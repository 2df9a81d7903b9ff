/*
 * api — REST routes of wrg-sample-runtime (runtime-api.md) and its
 * /_control/ test endpoints (docs/sample-runtime.md). Pure request →
 * response; the lws layer in server.c does the socket work. Order of
 * checks for every request: bearer token (401), route (plain 404/405),
 * faults (/v1/ only), body size, body JSON (400 invalid_json), worker
 * (404), state (409).
 */
#include "config.h"

#include "api.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wjson.h"
#include "xalloc.h"

#define API_MAX_EMIT 100000
#define API_MAX_OVERSIZE (256u << 20)
#define API_BOGUS_DIR "/var/lib/wrg-sample-runtime"

enum api_route {
	API_R_NONE = 0,
	API_R_RUNTIME,
	API_R_WORKERS,
	API_R_WORKER,
	API_R_INPUT,
	API_R_STOP,
	API_R_CANCEL,
	API_R_TRANSCRIPT,
	API_R_EVENTS_WS,
	API_R_BAD_WORKER_ID,
	API_R_CTL_FAULT,
	API_R_CTL_DROP_WS,
	API_R_CTL_EMIT
};

void
api_response_clear(struct api_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* Takes ownership of obj. */
static void
api_set_json(struct api_response *resp, int status, struct json_object *obj)
{
	const char *s;
	size_t len;

	s = wjson_str(obj, &len);
	free(resp->body);
	resp->status = status;
	resp->body = xstrndup(s, len);
	resp->body_len = len;
	json_object_put(obj);
}

static struct json_object *
api_error_obj(const char *code, const char *message)
{
	struct json_object *o = json_object_new_object();
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(o, "error", e);
	return o;
}

char *
api_error_body(const char *code, const char *message, size_t *len)
{
	struct json_object *o = api_error_obj(code, message);
	const char *s = wjson_str(o, len);
	char *out = xstrndup(s, *len);

	json_object_put(o);
	return out;
}

static void
api_set_error(struct api_response *resp, int status, const char *code,
    const char *message)
{
	api_set_json(resp, status, api_error_obj(code, message));
}

static void
api_set_plain(struct api_response *resp, int status)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = status;
}

/* Compares without an early exit on the first differing byte. */
static bool
api_token_ok(const char *token, const char *auth)
{
	size_t tl, al, i;
	unsigned char diff = 0;

	if (token == NULL)
		return true;
	/* the scheme name is case-insensitive (RFC 7235), the token not */
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	tl = strlen(token);
	al = strlen(auth);
	if (tl != al)
		return false;
	for (i = 0; i < tl; i++)
		diff |= (unsigned char)(token[i] ^ auth[i]);
	return diff == 0;
}

bool
api_ws_authorized(const struct api_ctx *ctx, const char *auth)
{
	return api_token_ok(ctx->token, auth) && !ctx->faults.refuse_token;
}

struct api_route_name {
	const char *name;
	enum api_route route;
};

/* The route named exactly s in tab, or API_R_NONE. */
static enum api_route
api_route_lookup(const struct api_route_name *tab, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, tab[i].name) == 0)
			return tab[i].route;
	return API_R_NONE;
}

/* Splits /v1/workers/{id}[/sub] and /_control/x. *id points into a copy
 * owned by the caller (*idbuf). */
static enum api_route
api_route_parse(const char *path, char **idbuf)
{
	static const struct api_route_name fixed[] = {
		{ "/v1/runtime", API_R_RUNTIME },
		{ "/v1/workers", API_R_WORKERS },
		{ "/_control/fault", API_R_CTL_FAULT },
		{ "/_control/drop-ws", API_R_CTL_DROP_WS },
		{ "/_control/emit", API_R_CTL_EMIT },
	};
	static const struct api_route_name sub[] = {
		{ "input", API_R_INPUT },
		{ "stop", API_R_STOP },
		{ "cancel", API_R_CANCEL },
		{ "transcript", API_R_TRANSCRIPT },
		{ "events/ws", API_R_EVENTS_WS },
	};
	const char *rest, *slash;
	enum api_route r;

	*idbuf = NULL;
	r = api_route_lookup(fixed, sizeof(fixed) / sizeof(fixed[0]), path);
	if (r != API_R_NONE)
		return r;
	if (strncmp(path, "/v1/workers/", 12) != 0)
		return API_R_NONE;
	rest = path + 12;
	slash = strchr(rest, '/');
	if (slash == NULL) {
		if (*rest == '\0')
			return API_R_BAD_WORKER_ID;
		*idbuf = xstrdup(rest);
		return API_R_WORKER;
	}
	if (slash == rest)
		return API_R_BAD_WORKER_ID;
	*idbuf = xstrndup(rest, (size_t)(slash - rest));
	r = api_route_lookup(sub, sizeof(sub) / sizeof(sub[0]), slash + 1);
	if (r == API_R_NONE) {
		free(*idbuf);
		*idbuf = NULL;
	}
	return r;
}

static bool
api_route_allows(enum api_route r, const char *method)
{
	bool get = strcmp(method, "GET") == 0;
	bool post = strcmp(method, "POST") == 0;

	switch (r) {
	case API_R_RUNTIME: case API_R_WORKER: case API_R_TRANSCRIPT:
	case API_R_EVENTS_WS:
		return get;
	case API_R_WORKERS:
		return get || post;
	case API_R_INPUT: case API_R_STOP: case API_R_CANCEL:
	case API_R_CTL_FAULT: case API_R_CTL_DROP_WS: case API_R_CTL_EMIT:
		return post;
	case API_R_BAD_WORKER_ID:
		return true;
	case API_R_NONE:
		return false;
	}
	return false;
}

static struct json_object *
api_worker_ref(const struct api_ctx *ctx, const struct store_worker *w)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "runtime_id",
	    json_object_new_string(ctx->runtime_id));
	json_object_object_add(o, "worker_id", json_object_new_string(w->id));
	return o;
}

static struct json_object *
api_spec_get(const struct store_worker *w, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(w->spec, key, &v))
		return NULL;
	return v;
}

/* The fields WorkerSummary and WorkerDetail share. */
static struct json_object *
api_worker_common(const struct api_ctx *ctx, const struct store_worker *w)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "worker_ref", api_worker_ref(ctx, w));
	json_object_object_add(o, "runtime_id",
	    json_object_new_string(ctx->runtime_id));
	json_object_object_add(o, "worker_id", json_object_new_string(w->id));
	json_object_object_add(o, "status",
	    json_object_new_string(store_strstatus(w->status)));
	json_object_object_add(o, "intent",
	    json_object_get(api_spec_get(w, "intent")));
	json_object_object_add(o, "profile",
	    json_object_get(api_spec_get(w, "profile")));
	json_object_object_add(o, "transcript_len",
	    json_object_new_int64((int64_t)w->n_entries));
	json_object_object_add(o, "last_event_id",
	    json_object_new_int64((int64_t)w->last_event_id));
	return o;
}

struct json_object *
api_transcript_entry(const struct api_ctx *ctx, const struct store_worker *w,
    size_t i, bool with_ref)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "sequence",
	    json_object_new_int64((int64_t)i + 1));
	if (with_ref)
		json_object_object_add(e, "worker_ref", api_worker_ref(ctx, w));
	json_object_object_add(e, "role",
	    json_object_new_string(w->entries[i].role));
	json_object_object_add(e, "content",
	    json_object_get(w->entries[i].content));
	json_object_object_add(e, "event_id",
	    json_object_new_int64((int64_t)w->entries[i].event_id));
	return e;
}

static struct json_object *
api_worker_summary(const struct api_ctx *ctx, const struct store_worker *w)
{
	struct json_object *o = api_worker_common(ctx, w);
	struct json_object *caps = api_spec_get(w, "requested_capabilities");

	json_object_object_add(o, "requested_capability_count",
	    json_object_new_int64(caps != NULL ?
	    (int64_t)json_object_array_length(caps) : 0));
	json_object_object_add(o, "has_config_bundle",
	    json_object_new_boolean(api_spec_get(w, "config_bundle") != NULL));
	return o;
}

static struct json_object *
api_worker_detail(const struct api_ctx *ctx, const struct store_worker *w)
{
	static const char *const opt[] = { "config_bundle",
	    "requested_capabilities", "workspace_refs", "mount_refs" };
	struct json_object *o = api_worker_common(ctx, w);
	size_t i;

	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		struct json_object *v = api_spec_get(w, opt[i]);

		if (v != NULL)
			json_object_object_add(o, opt[i], json_object_get(v));
	}
	return o;
}

static struct json_object *
api_wrap(const char *key, struct json_object *v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, key, v);
	return o;
}

static void
api_do_runtime(struct api_ctx *ctx, struct api_response *resp)
{
	struct json_object *o = json_object_new_object();
	struct json_object *lim = json_object_new_object();
	size_t i, n = store_worker_count(ctx->st), cnt[3] = { 0, 0, 0 };

	for (i = 0; i < n; i++)
		cnt[store_worker_at(ctx->st, i)->status]++;
	json_object_object_add(o, "runtime_id",
	    json_object_new_string(ctx->runtime_id));
	json_object_object_add(o, "display_name", ctx->display_name ?
	    json_object_new_string(ctx->display_name) : NULL);
	json_object_object_add(o, "backend",
	    json_object_new_string(ctx->state_dir ? "fs_store" : "memory"));
	json_object_object_add(o, "status", json_object_new_string("running"));
	json_object_object_add(o, "worker_count",
	    json_object_new_int64((int64_t)n));
	json_object_object_add(o, "active_worker_count",
	    json_object_new_int64((int64_t)cnt[STORE_RUNNING]));
	json_object_object_add(o, "stopped_worker_count",
	    json_object_new_int64((int64_t)cnt[STORE_STOPPED]));
	json_object_object_add(o, "cancelled_worker_count",
	    json_object_new_int64((int64_t)cnt[STORE_CANCELLED]));
	json_object_object_add(o, "diagnostic_count", json_object_new_int(0));
	json_object_object_add(lim, "max_transcript_projection_items",
	    json_object_new_int64((int64_t)ctx->max_transcript));
	json_object_object_add(lim, "max_event_batch_items",
	    json_object_new_int(256));
	json_object_object_add(o, "limits", lim);
	api_set_json(resp, 200, api_wrap("runtime", o));
}

static void
api_do_list(struct api_ctx *ctx, struct api_response *resp)
{
	struct json_object *arr = json_object_new_array();
	size_t i, n = store_worker_count(ctx->st);

	for (i = 0; i < n; i++)
		json_object_array_add(arr,
		    api_worker_summary(ctx, store_worker_at(ctx->st, i)));
	api_set_json(resp, 200, api_wrap("workers", arr));
}

/* --- request validation: false = not valid JSON for the route --- */

static bool
api_str_field(struct json_object *o, const char *key, bool required)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return !required;
	return json_object_is_type(v, json_type_string);
}

/* One accepted "kind" of a tagged object and its string fields. */
struct api_kind {
	const char *kind;
	const char *required;	/* NULL: none */
	const char *optional;	/* NULL: none */
};

/* o is an object whose "kind" is one of tab's, with that kind's fields. */
static bool
api_valid_kind(struct json_object *o, const struct api_kind *tab, size_t n)
{
	const char *kind = wjson_get_string(o, "kind");
	size_t i;

	if (!json_object_is_type(o, json_type_object) || kind == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(kind, tab[i].kind) == 0)
			return (tab[i].required == NULL ||
			    api_str_field(o, tab[i].required, true)) &&
			    (tab[i].optional == NULL ||
			    api_str_field(o, tab[i].optional, false));
	return false;
}

static bool
api_valid_intent(struct json_object *o)
{
	static const struct api_kind kinds[] = {
		{ "assistant", NULL, "purpose" },
		{ "task", "objective", NULL },
		{ "role", "role", "purpose" },
	};

	return api_valid_kind(o, kinds, sizeof(kinds) / sizeof(kinds[0]));
}

static bool
api_valid_profile(struct json_object *o)
{
	static const struct api_kind kinds[] = {
		{ "runtime_default", NULL, NULL },
		{ "builtin", "value", NULL },
		{ "named", "value", NULL },
	};

	return api_valid_kind(o, kinds, sizeof(kinds) / sizeof(kinds[0]));
}

/* An array of objects whose listed keys are strings (first required). */
static bool
api_valid_list(struct json_object *a, const char *k1, bool k2_required,
    const char *k2)
{
	size_t i, n;

	if (!json_object_is_type(a, json_type_array))
		return false;
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		if (!json_object_is_type(e, json_type_object) ||
		    !api_str_field(e, k1, true) || !api_str_field(e, k2,
		    k2_required))
			return false;
	}
	return true;
}

/*
 * The optional list field key of req: absent or null is fine; otherwise
 * it must be a list of {"name", k2} objects (api_valid_list), copied into
 * spec when non-empty. False when present and invalid.
 */
static bool
api_copy_list(struct json_object *req, struct json_object *spec,
    const char *key, bool k2_required, const char *k2)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(req, key, &v) || v == NULL)
		return true;
	if (!api_valid_list(v, "name", k2_required, k2))
		return false;
	if (json_object_array_length(v) > 0)
		json_object_object_add(spec, key, json_object_get(v));
	return true;
}

/* Returns a new spec object (owned by the caller) or NULL. */
static struct json_object *
api_create_spec(struct json_object *req)
{
	struct json_object *spec = NULL, *v = NULL;

	if (!json_object_is_type(req, json_type_object))
		return NULL;
	spec = json_object_new_object();
	if (!json_object_object_get_ex(req, "intent", &v) ||
	    !api_valid_intent(v))
		goto bad;
	json_object_object_add(spec, "intent", json_object_get(v));
	if (!json_object_object_get_ex(req, "profile", &v) ||
	    !api_valid_profile(v))
		goto bad;
	json_object_object_add(spec, "profile", json_object_get(v));
	if (json_object_object_get_ex(req, "config_bundle", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_object) ||
		    !api_str_field(v, "id", true))
			goto bad;
		json_object_object_add(spec, "config_bundle",
		    json_object_get(v));
	}
	if (!api_copy_list(req, spec, "requested_capabilities", false,
	    "reason") ||
	    !api_copy_list(req, spec, "workspace_refs", true, "reference") ||
	    !api_copy_list(req, spec, "mount_refs", true, "reference"))
		goto bad;
	return spec;
bad:
	json_object_put(spec);
	return NULL;
}

static bool
api_body_blank(const struct api_request *req)
{
	size_t i;

	for (i = 0; i < req->body_len; i++)
		if (strchr(" \t\r\n", req->body[i]) == NULL)
			return false;
	return true;
}

/* Parses the body as one JSON object; NULL if absent or invalid. */
static struct json_object *
api_body_object(const struct api_request *req)
{
	struct json_object *o;

	if (req->body == NULL || req->body_len == 0)
		return NULL;
	o = wjson_parse(req->body, req->body_len, WJSON_MAX_DEPTH);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static void
api_store_failed(struct api_ctx *ctx, struct api_response *resp)
{
	char *msg = xasprintf("failed to write %s/events.jsonl",
	    ctx->state_dir ? ctx->state_dir : API_BOGUS_DIR);

	api_set_error(resp, 500, "store_io", msg);
	free(msg);
}

static void
api_do_create(struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	struct json_object *body = api_body_object(req);
	struct json_object *spec = body ? api_create_spec(body) : NULL;
	struct store_worker *w = NULL;

	if (spec == NULL) {
		api_set_error(resp, 400, "invalid_json",
		    "body is not a valid CreateWorkerRequest");
		goto out;
	}
	if (store_worker_create(ctx->st, spec, &w) != STORE_OK) {
		api_store_failed(ctx, resp);
		goto out;
	}
	api_set_json(resp, 200, api_wrap("worker", api_worker_detail(ctx, w)));
out:
	json_object_put(body);
}

static struct store_worker *
api_find_or_404(struct api_ctx *ctx, const char *id, struct api_response *resp)
{
	struct store_worker *w = store_worker_find(ctx->st, id);

	if (w == NULL)
		api_set_error(resp, 404, "worker_not_found", "no such worker");
	return w;
}

/*
 * A 200 {"ack": ...} for worker w: worker_ref, status, event_id, and
 * transcript_sequence when tseq is not NULL (input acks carry it,
 * lifecycle acks do not).
 */
static void
api_set_ack(struct api_ctx *ctx, struct store_worker *w,
    const uint64_t *tseq, uint64_t eid, struct api_response *resp)
{
	struct json_object *ack = json_object_new_object();

	json_object_object_add(ack, "worker_ref", api_worker_ref(ctx, w));
	json_object_object_add(ack, "status",
	    json_object_new_string(store_strstatus(w->status)));
	if (tseq != NULL)
		json_object_object_add(ack, "transcript_sequence",
		    json_object_new_int64((int64_t)*tseq));
	json_object_object_add(ack, "event_id",
	    json_object_new_int64((int64_t)eid));
	api_set_json(resp, 200, api_wrap("ack", ack));
}

static void
api_do_input(struct api_ctx *ctx, const struct api_request *req,
    const char *id,
    struct api_response *resp)
{
	struct json_object *body = api_body_object(req), *content = NULL;
	const char *kind = body ? wjson_get_string(body, "kind") : NULL;
	struct store_worker *w;
	uint64_t tseq = 0, eid = 0;

	if (kind == NULL || (strcmp(kind, "user") != 0 &&
	    strcmp(kind, "system") != 0) ||
	    !json_object_object_get_ex(body, "content", &content) ||
	    !json_object_is_type(content, json_type_string)) {
		api_set_error(resp, 400, "invalid_json",
		    "body is not a valid WorkerInput");
		goto out;
	}
	if ((w = api_find_or_404(ctx, id, resp)) == NULL)
		goto out;
	if (w->status != STORE_RUNNING) {
		api_set_error(resp, 409, "invalid_request",
		    "worker is not running");
		goto out;
	}
	if (store_input(ctx->st, w, strcmp(kind, "system") == 0 ? "system"
	    : "user", content, &tseq, &eid) != STORE_OK) {
		api_store_failed(ctx, resp);
		goto out;
	}
	api_set_ack(ctx, w, &tseq, eid, resp);
out:
	json_object_put(body);
}

static void
api_do_lifecycle(struct api_ctx *ctx, const struct api_request *req,
    const char *id, enum store_status to, struct api_response *resp)
{
	struct json_object *body = NULL;
	struct store_worker *w;
	uint64_t eid;

	if (!api_body_blank(req)) {
		body = api_body_object(req);
		if (body == NULL || !api_str_field(body, "reason", false)) {
			api_set_error(resp, 400, "invalid_json",
			    "body must be empty or {\"reason\": \"...\"}");
			goto out;
		}
	}
	if ((w = api_find_or_404(ctx, id, resp)) == NULL)
		goto out;
	eid = w->last_event_id;
	/* Idempotent: a worker that is no longer running stays as it is. */
	if (w->status == STORE_RUNNING &&
	    store_set_status(ctx->st, w, to, &eid) != STORE_OK) {
		api_store_failed(ctx, resp);
		goto out;
	}
	api_set_ack(ctx, w, NULL, eid, resp);
out:
	json_object_put(body);
}

/* Decimal digits only, at most 18 of them. */
static bool
api_parse_count(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 18)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static void
api_do_transcript(struct api_ctx *ctx, const struct api_request *req,
    const char *id, struct api_response *resp)
{
	uint64_t start = 0, limit = 256, end, i;
	const char *q = req->query ? req->query : "";
	struct store_worker *w;
	struct json_object *o, *items;

	if (limit > ctx->max_transcript)
		limit = ctx->max_transcript;
	while (*q != '\0') {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);

		if (len > 0) {
			size_t klen = eq ? (size_t)(eq - q) : len;
			uint64_t *dst = NULL;

			if (klen == 5 && strncmp(q, "start", 5) == 0)
				dst = &start;
			else if (klen == 5 && strncmp(q, "limit", 5) == 0)
				dst = &limit;
			if (dst != NULL && (eq == NULL ||
			    !api_parse_count(eq + 1,
			    len - klen - 1, dst))) {
				api_set_error(resp, 400, "invalid_query",
				    "start and limit must be non-negative "
				    "integers");
				return;
			}
		}
		q += len;
		if (*q == '&')
			q++;
	}
	if (limit > ctx->max_transcript) {
		api_set_error(resp, 400, "limit_too_large",
		    "limit exceeds max_transcript_projection_items");
		return;
	}
	if ((w = api_find_or_404(ctx, id, resp)) == NULL)
		return;
	o = json_object_new_object();
	items = json_object_new_array();
	end = start + limit;
	if (end > w->n_entries)
		end = w->n_entries;
	for (i = start; i < end; i++)
		json_object_array_add(items, api_transcript_entry(ctx, w,
		    (size_t)i, true));
	json_object_object_add(o, "worker_ref", api_worker_ref(ctx, w));
	json_object_object_add(o, "start",
	    json_object_new_int64((int64_t)start));
	json_object_object_add(o, "limit",
	    json_object_new_int64((int64_t)limit));
	json_object_object_add(o, "total_items",
	    json_object_new_int64((int64_t)w->n_entries));
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "next_start", start < end &&
	    end < w->n_entries ? json_object_new_int64((int64_t)end) : NULL);
	api_set_json(resp, 200, api_wrap("transcript", o));
}

static struct json_object *
api_fault_obj(const struct api_faults *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "delay_ms",
	    json_object_new_int64(f->delay_ms));
	json_object_object_add(o, "fail_500",
	    json_object_new_boolean(f->fail_500));
	json_object_object_add(o, "invalid_json",
	    json_object_new_boolean(f->invalid_json));
	json_object_object_add(o, "oversize_bytes",
	    json_object_new_int64((int64_t)f->oversize_bytes));
	json_object_object_add(o, "refuse_token",
	    json_object_new_boolean(f->refuse_token));
	json_object_object_add(o, "reject_code",
	    json_object_new_string(f->reject_code));
	json_object_object_add(o, "reject_message",
	    json_object_new_string(f->reject_message));
	return o;
}

static bool
api_get_uint(struct json_object *o, const char *key, uint64_t max,
    uint64_t *out, bool *bad)
{
	struct json_object *v = NULL;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return false;
	if (!json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < 0 || (uint64_t)n > max) {
		*bad = true;
		return false;
	}
	*out = (uint64_t)n;
	return true;
}

static bool
api_get_bool(struct json_object *o, const char *key, bool *out, bool *bad)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return false;
	if (!json_object_is_type(v, json_type_boolean)) {
		*bad = true;
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

/* A string member copied into buf (size bytes with its NUL). */
static void
api_get_str(struct json_object *o, const char *key, char *buf, size_t size,
    bool *bad)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return;
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= size) {
		*bad = true;
		return;
	}
	memcpy(buf, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v) + 1);
}

static void
api_do_ctl_fault(struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	struct json_object *body = NULL;
	struct api_faults f = ctx->faults;
	bool bad = false;
	uint64_t n;

	if (!api_body_blank(req)) {
		body = api_body_object(req);
		if (body == NULL) {
			bad = true;
			goto out;
		}
		if (api_get_uint(body, "delay_ms", 600000, &n, &bad))
			f.delay_ms = (long)n;
		if (api_get_uint(body, "oversize_bytes", API_MAX_OVERSIZE, &n,
		    &bad))
			f.oversize_bytes = (size_t)n;
		api_get_bool(body, "fail_500", &f.fail_500, &bad);
		api_get_bool(body, "invalid_json", &f.invalid_json, &bad);
		api_get_bool(body, "refuse_token", &f.refuse_token, &bad);
		api_get_str(body, "reject_code", f.reject_code,
		    sizeof(f.reject_code), &bad);
		api_get_str(body, "reject_message", f.reject_message,
		    sizeof(f.reject_message), &bad);
	}
out:
	if (bad) {
		api_set_error(resp, 400, "invalid_json", "bad fault settings");
	} else {
		ctx->faults = f;
		api_set_json(resp, 200, api_wrap("fault", api_fault_obj(&f)));
	}
	json_object_put(body);
}

static void
api_do_ctl_emit(struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	struct json_object *body = api_body_object(req);
	const char *id = body ? wjson_get_string(body, "worker_id") : NULL;
	struct store_worker *w;
	uint64_t count = 1, i, eid;
	bool bad = false;

	if (id != NULL)
		api_get_uint(body, "count", API_MAX_EMIT, &count, &bad);
	if (id == NULL || bad) {
		api_set_error(resp, 400, "invalid_json",
		    "body must be {\"worker_id\": \"...\", \"count\": N}");
		goto out;
	}
	if ((w = api_find_or_404(ctx, id, resp)) == NULL)
		goto out;
	eid = w->last_event_id;
	for (i = 0; i < count; i++) {
		if (store_tick(ctx->st, w, &eid) != STORE_OK) {
			api_store_failed(ctx, resp);
			goto out;
		}
	}
	api_set_json(resp, 200, api_wrap("last_event_id",
	    json_object_new_int64((int64_t)eid)));
out:
	json_object_put(body);
}

static void
api_do_ctl_drop(struct api_ctx *ctx, struct api_response *resp)
{
	int n = ctx->drop_ws ? ctx->drop_ws(ctx->drop_ws_arg) : 0;

	api_set_json(resp, 200, api_wrap("dropped", json_object_new_int(n)));
}

/* Turns a finished answer into a body of at least n bytes: a 2xx JSON
 * object gets a "padding" member, anything else becomes {"padding"}. */
static void
api_oversize(struct api_response *resp, size_t n)
{
	struct json_object *o = NULL;
	char *pad = xmalloc(n + 1);

	if (resp->status >= 200 && resp->status < 300 && resp->body != NULL)
		o = wjson_parse(resp->body, resp->body_len, WJSON_MAX_DEPTH);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_object_new_object();
	}
	memset(pad, 'x', n);
	pad[n] = '\0';
	json_object_object_add(o, "padding",
	    json_object_new_string_len(pad, (int)n));
	free(pad);
	api_set_json(resp, 200, o);
}

void
api_handle(struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp)
{
	char *id = NULL;
	enum api_route r;
	bool v1 = strncmp(req->path, "/v1/", 4) == 0;

	memset(resp, 0, sizeof(*resp));
	if (!api_token_ok(ctx->token, req->auth) ||
	    (v1 && ctx->faults.refuse_token)) {
		api_set_error(resp, 401, "unauthorized",
		    "missing or wrong bearer token");
		goto faults;
	}
	r = api_route_parse(req->path, &id);
	if (r == API_R_NONE) {
		api_set_plain(resp, 404);
		goto faults;
	}
	if (!api_route_allows(r, req->method)) {
		api_set_plain(resp, 405);
		goto faults;
	}
	if (v1 && ctx->faults.fail_500) {
		api_store_failed(ctx, resp);
		goto faults;
	}
	if (v1 && ctx->faults.reject_code[0] != '\0') {
		api_set_error(resp, 400, ctx->faults.reject_code,
		    ctx->faults.reject_message);
		goto faults;
	}
	if (v1 && ctx->faults.invalid_json) {
		static const char broken[] = "{\"runtime\": {\"runtime_id\": ";

		resp->status = 200;
		resp->body = xstrdup(broken);
		resp->body_len = sizeof(broken) - 1;
		goto faults;
	}
	if (req->body_chunked) {
		api_set_error(resp, 400, "invalid_request",
		    "chunked request bodies are not supported");
		goto faults;
	}
	if (req->body_too_large) {
		api_set_error(resp, 400, "invalid_request",
		    "request body too large");
		goto faults;
	}
	switch (r) {
	case API_R_RUNTIME: api_do_runtime(ctx, resp); break;
	case API_R_WORKERS:
		if (strcmp(req->method, "GET") == 0)
			api_do_list(ctx, resp);
		else
			api_do_create(ctx, req, resp);
		break;
	case API_R_WORKER: {
		struct store_worker *w = api_find_or_404(ctx, id, resp);

		if (w != NULL)
			api_set_json(resp, 200, api_wrap("worker",
			    api_worker_detail(ctx, w)));
		break;
	}
	case API_R_INPUT: api_do_input(ctx, req, id, resp); break;
	case API_R_STOP: api_do_lifecycle(ctx, req, id, STORE_STOPPED,
	    resp); break;
	case API_R_CANCEL:
		api_do_lifecycle(ctx, req, id, STORE_CANCELLED, resp);
		break;
	case API_R_TRANSCRIPT: api_do_transcript(ctx, req, id, resp); break;
	case API_R_EVENTS_WS:
		api_set_error(resp, 400, "invalid_request",
		    "websocket upgrade required");
		break;
	case API_R_BAD_WORKER_ID:
		api_set_error(resp, 400, "invalid_worker_id", "empty worker "
		    "id");
		break;
	case API_R_CTL_FAULT: api_do_ctl_fault(ctx, req, resp); break;
	case API_R_CTL_DROP_WS: api_do_ctl_drop(ctx, resp); break;
	case API_R_CTL_EMIT: api_do_ctl_emit(ctx, req, resp); break;
	case API_R_NONE: api_set_plain(resp, 404); break;
	}
faults:
	if (v1) {
		if (ctx->faults.oversize_bytes > 0 && !ctx->faults.fail_500 &&
		    !ctx->faults.invalid_json && resp->status != 401)
			api_oversize(resp, ctx->faults.oversize_bytes);
		resp->delay_ms = ctx->faults.delay_ms;
	}
	free(id);
}
