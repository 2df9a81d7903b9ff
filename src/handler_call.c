/*
 * handler_call — one runtime call of a REST route and the shape of its
 * answer (handler.h): classify the call (apierr), parse its body within
 * the parse budget, rewrite it (rewrite.h), and for single-runtime
 * routes set the response. Split from handler.c; shares handler_int.h.
 *
 * Ownership: a call's answer buffer is freed here as soon as it is
 * parsed; the rewritten JSON goes to the caller (handler_result) or into
 * the response (handler_single_finish).
 */
#include "handler.h"
#include "handler_int.h"

#include <stdlib.h>
#include <string.h>

#include "wjson.h"
#include "wlog.h"
#include "xalloc.h"

/* Classifies a finished call and, for 2xx, parses (within the parse
 * budget) and rewrites its body with fn (fn NULL: returns the parsed root
 * as is). Returns new JSON owned by the caller, or NULL with u->err set;
 * either way *u is filled (clear it with apierr_upstream_clear). op >= 0
 * is the rtstate operation to mark unsupported on a router miss. The
 * call's answer buffer is released here: once parsed, the tree replaces
 * it, and holding both while the response is built is what a memory
 * bound must not count twice. */
struct json_object *
handler_result(struct handler_ctx *ctx, const struct registry_runtime *rt,
    int op, struct upstream_call *c, handler_rewrite_fn fn,
    const char *request_id, struct apierr_upstream *u)
{
	struct json_object *root = NULL, *res = NULL;
	enum apierr_body body;

	apierr_upstream(ctx->reg, rt, c, request_id, u);
	fcgim_upstream_done(ctx->metrics, rt->index, c->usec);
	if (u->err != APIERR_OK) {
		if (u->unsupported && op >= 0)
			rtstate_mark_unsupported(ctx->rts, rt->index,
			    (enum rtstate_op)op);
		goto drop;
	}
	body = apierr_parse_body(ctx->reg, c, &root);
	if (body == APIERR_BODY_TOO_COSTLY) {
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime answered %s with a body over the parse budget "
		    "(%zu bytes, more than %zu bytes of JSON tree)", c->path,
		    c->resp_len, apierr_parse_budget(ctx->reg));
		goto bad;
	}
	if (root == NULL) {
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime answered %s with invalid JSON (%zu bytes)",
		    c->path, c->resp_len);
		goto bad;
	}
	free(c->resp);
	c->resp = NULL;
	c->resp_len = 0;
	if (fn == NULL)		/* the caller rewrites from the root */
		return root;
	res = fn(root, rt->id);
	json_object_put(root);
	if (res == NULL) {
		wlog(WLOG_WARN, request_id, rt->id,
		    "runtime answered %s with an unexpected JSON shape",
		    c->path);
		goto bad;
	}
	return res;
bad:
	u->err = APIERR_RUNTIME_BAD_RESPONSE;
	u->status = apierr_status(u->err);
drop:
	fcgim_upstream_error(ctx->metrics, rt->index, u->err);
	free(c->resp);
	c->resp = NULL;
	c->resp_len = 0;
	return NULL;
}

/* One call to h->rt, answered by handler_single_finish. Takes ownership
 * of path (freed with the call); body (may be NULL) is borrowed: it is
 * serialized into the call here. */
void
handler_single(struct handler_task *h, int op, char *path,
    struct json_object *body, handler_rewrite_fn fn, const char *key,
    int status)
{
	struct upstream_call *c = xcalloc(1, sizeof(*c));

	c->rt = h->rt;
	c->path = path;
	if (body != NULL) {
		size_t len = 0;
		const char *s = wjson_str(body, &len);

		c->post = true;
		c->body = xstrndup(s, len);
		c->body_len = len;
	}
	h->calls = c;
	h->ncalls = 1;
	h->then = HANDLER_THEN_SINGLE;
	h->op = op;
	h->fn = fn;
	h->key = key;
	h->status = status;
}

/* On success sets the response to {key: result} with status, else to
 * the mapped error. */
void
handler_single_finish(struct handler_task *h)
{
	struct upstream_call *c = &h->calls[0];
	struct apierr_upstream u;
	struct json_object *res;

	res = handler_result(h->ctx, h->rt, h->op, c, h->fn,
	    h->out->request_id, &u);
	if (res == NULL) {
		resp_upstream_error(h->out, &u, h->rt->id);
	} else {
		struct json_object *root = json_object_new_object();

		json_object_object_add(root, h->key, res);
		resp_json(h->out, h->status, root);
	}
	apierr_upstream_clear(&u);
}
