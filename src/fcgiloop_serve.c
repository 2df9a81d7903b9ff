/*
 * fcgiloop_serve — one complete FastCGI request through the handler
 * (handler.h) or the metrics page (fcgim.h), with no lock held: the
 * params become a struct handler_req, the struct resp becomes the job's
 * answer. The job owns the request until it is served, then the answer
 * (head and body) until fcgiloop_on_done hands it to the connection.
 */
#include <stdlib.h>
#include <string.h>

#include "fcgiloop.h"
#include "fcgiloop_int.h"
#include "xalloc.h"

struct fcgiloop_body {
	const struct fcgirec_req *req;
	size_t pos;
};

static ssize_t
fcgiloop_read_body(void *arg, char *buf, size_t cap)
{
	struct fcgiloop_body *b = arg;
	size_t n = b->req->body_len - b->pos;

	if (n > cap)
		n = cap;
	if (n == 0)
		return 0;	/* body may be NULL: no memcpy from it */
	memcpy(buf, b->req->body + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

/* One request: params in, handler, the answer into the job. */
void
fcgiloop_serve(struct handler_ctx *ctx, struct fcgiloop_job *job)
{
	const struct fcgirec_req *r = job->req;
	struct fcgiloop_body body = { r, 0 };
	struct handler_req req;
	struct resp out;
	char *uri = NULL;

	memset(&req, 0, sizeof(req));
	memset(&out, 0, sizeof(out));
	req.method = fcgirec_req_param(r, "REQUEST_METHOD");
	req.uri = fcgirec_req_param(r, "REQUEST_URI");
	if (req.uri == NULL) {
		/* Not seen with lighttpd, nginx or Apache; the documented
		 * fallback of docs/api.md. */
		const char *doc = fcgirec_req_param(r, "DOCUMENT_URI");
		const char *qs = fcgirec_req_param(r, "QUERY_STRING");

		if (doc != NULL) {
			uri = xasprintf("%s%s%s", doc, qs && *qs ? "?" : "",
			    qs && *qs ? qs : "");
			req.uri = uri;
		}
	}
	req.content_type = fcgirec_req_param(r, "CONTENT_TYPE");
	req.content_length = fcgirec_req_param(r, "CONTENT_LENGTH");
	req.request_id = fcgirec_req_param(r, "HTTP_X_REQUEST_ID");
	req.read_body = fcgiloop_read_body;
	req.read_arg = &body;

	if (fcgim_serve(ctx->metrics, ctx->reg, req.method, req.uri,
	    &job->head, &job->body, &job->body_len)) {
		job->head_len = strlen(job->head);
		goto out;
	}
	fcgim_request_begin(ctx->metrics);
	handler_handle(ctx, &req, &out);
	fcgim_request_end(ctx->metrics, out.route, out.rt_ref, out.status);

	job->head = resp_headers(&out);
	job->head_len = strlen(job->head);
	if (!out.head) {
		job->body = out.body;
		job->body_len = out.body_len;
		out.body = NULL;
	}
out:
	resp_clear(&out);
	free(uri);
	fcgirec_req_free(job->req);
	job->req = NULL;
}

void
fcgiloop_job_free(struct fcgiloop_job *job)
{
	if (job == NULL)
		return;
	fcgirec_req_free(job->req);
	free(job->head);
	free(job->body);
	free(job);
}
