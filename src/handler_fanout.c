/*
 * handler_fanout — the routes that ask every runtime at once (handler.h):
 * GET /api/runtimes (and /api/runtimes/{r}, the same view for one) and
 * GET /api/workers. Calls run in parallel (the caller runs them); a runtime
 * that fails becomes a diagnostic next to the others' answers, never an
 * error for the whole request. Split from handler.c; shares
 * handler_int.h.
 *
 * Ownership: each runtime's parsed answer is dropped before the next one
 * is parsed (see handler_workers_all), so a request holds one parsed
 * answer at a time.
 */
#include "handler.h"
#include "handler_int.h"

#include <stdlib.h>
#include <string.h>

#include "rewrite.h"
#include "wlog.h"
#include "xalloc.h"

static struct json_object *
handler_diag(const char *runtime_id, enum apierr e)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "runtime_id",
	    json_object_new_string(runtime_id));
	json_object_object_add(d, "code",
	    json_object_new_string(apierr_code(e)));
	json_object_object_add(d, "severity", json_object_new_string(
	    e == APIERR_RUNTIME_UNSUPPORTED ? "warning" : "error"));
	json_object_object_add(d, "message",
	    json_object_new_string(apierr_message(e)));
	return d;
}

/* A RuntimeView for rt from a finished GET /v1/runtime call. Appends a
 * diagnostic to diags (if non-NULL) when the runtime failed. */
static struct json_object *
handler_runtime_view(struct handler_ctx *ctx, const struct
    registry_runtime *rt, struct upstream_call *c, const char *request_id,
    struct json_object *diags)
{
	struct json_object *view = json_object_new_object();
	struct json_object *src = json_object_new_object();
	struct json_object *mydiags = json_object_new_array();
	struct json_object *root = NULL, *summary = NULL;
	struct apierr_upstream u;
	const char *dname = NULL;
	char *scrubbed;
	long max_items = -1;

	root = handler_result(ctx, rt, -1, c, NULL, request_id, &u);
	if (root != NULL) {
		summary = rewrite_runtime_summary(root, &max_items, &dname);
		if (summary == NULL) {
			wlog(WLOG_WARN, request_id, rt->id,
			    "runtime answered %s with an unexpected JSON "
			    "shape", c->path);
			u.err = APIERR_RUNTIME_BAD_RESPONSE;
		}
	}
	if (max_items >= 0)
		rtstate_set_max_transcript(ctx->rts, rt->index, max_items);

	json_object_object_add(view, "runtime_id",
	    json_object_new_string(rt->id));
	/* The operator's name wins; the runtime's own is free text from the
	 * remote side, so it passes the same scrub as rejection messages. */
	if (rt->display_name != NULL)
		scrubbed = xstrdup(rt->display_name);
	else
		scrubbed = apierr_scrub(ctx->reg, dname);
	json_object_object_add(view, "display_name",
	    scrubbed != NULL ? json_object_new_string(scrubbed) : NULL);
	free(scrubbed);
	json_object_object_add(src, "kind", json_object_new_string(
	    rt->transport == REGISTRY_TRANSPORT_UNIX ? "local" : "remote"));
	json_object_object_add(src, "transport", json_object_new_string(
	    registry_transport_name(rt->transport)));
	json_object_object_add(view, "source", src);
	json_object_object_add(view, "status", json_object_new_string(
	    apierr_runtime_status(u.err)));
	json_object_object_add(view, "summary", summary);
	json_object_object_add(view, "capabilities",
	    rtstate_capabilities(ctx->rts, rt->index));
	if (u.err != APIERR_OK) {
		struct json_object *d = handler_diag(rt->id, u.err);

		json_object_array_add(mydiags, d);
		if (diags != NULL)
			json_object_array_add(diags, json_object_get(d));
	}
	json_object_object_add(view, "diagnostics", mydiags);
	json_object_put(root);
	apierr_upstream_clear(&u);
	return view;
}

/* GET /api/runtimes, /api/runtimes/{r}: one call per runtime, all in
 * parallel. */
void
handler_runtimes(struct handler_task *h, enum handler_scope scope)
{
	bool one = scope == HANDLER_ONE_RUNTIME;
	const struct registry *reg = h->ctx->reg;
	size_t n = one ? 1 : reg->runtime_count;

	h->calls = xcalloc(n ? n : 1, sizeof(*h->calls));
	h->ncalls = n;
	for (size_t i = 0; i < n; i++) {
		h->calls[i].rt = one ? h->rt : &reg->runtimes[i];
		h->calls[i].path = xstrdup("/v1/runtime");
	}
	h->scope = scope;
	h->then = HANDLER_THEN_RUNTIMES;
}

void
handler_runtimes_finish(struct handler_task *h)
{
	bool one = h->scope == HANDLER_ONE_RUNTIME;
	size_t n = h->ncalls;
	struct json_object *items = json_object_new_array();
	struct json_object *diags = json_object_new_array();
	struct json_object *root = json_object_new_object();

	/* A view keeps only counts and words: each runtime's parsed answer
	 * is dropped inside handler_runtime_view, before the next. */
	for (size_t i = 0; i < n; i++)
		json_object_array_add(items, handler_runtime_view(h->ctx,
		    h->calls[i].rt, &h->calls[i], h->out->request_id, diags));
	if (one) {
		json_object_object_add(root, "runtime", json_object_get(
		    json_object_array_get_idx(items, 0)));
		json_object_put(items);
		json_object_put(diags);
	} else {
		json_object_object_add(root, "items", items);
		json_object_object_add(root, "diagnostics", diags);
	}
	resp_json(h->out, 200, root);
}

/* GET /api/workers: every runtime's list, queried in parallel. */
void
handler_workers_all(struct handler_task *h)
{
	const struct registry *reg = h->ctx->reg;
	size_t n = reg->runtime_count;

	h->calls = xcalloc(n ? n : 1, sizeof(*h->calls));
	h->ncalls = n;
	for (size_t i = 0; i < n; i++) {
		h->calls[i].rt = &reg->runtimes[i];
		h->calls[i].path = xstrdup("/v1/workers");
	}
	h->then = HANDLER_THEN_WORKERS;
}

/* Each runtime's answer is parsed, rewritten, serialized into the
 * response and dropped before the next one is parsed, so the request
 * holds at most one parsed list (plus the raw answers still waiting),
 * not all of them. */
void
handler_workers_all_finish(struct handler_task *h)
{
	struct json_object *diags = json_object_new_array();

	resp_items_begin(h->out);
	for (size_t i = 0; i < h->ncalls; i++) {
		const struct registry_runtime *rt = h->calls[i].rt;
		struct apierr_upstream u;
		struct json_object *list;

		list = handler_result(h->ctx, rt, RTSTATE_OP_LIST_WORKERS,
		    &h->calls[i], rewrite_worker_list, h->out->request_id,
		    &u);
		if (list == NULL)
			json_object_array_add(diags,
			    handler_diag(rt->id, u.err));
		else
			resp_items_add(h->out, list);
		json_object_put(list);
		apierr_upstream_clear(&u);
		upstream_call_clear(&h->calls[i]);
	}
	resp_items_end(h->out, diags);
}
