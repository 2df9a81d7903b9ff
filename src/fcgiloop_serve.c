/*
 * fcgiloop_serve — one complete FastCGI request through the metrics page
 * (fcgim.h) or the handler (handler.h), on its shard's thread: the params
 * become a struct handler_req, handler_begin either answers at once or
 * names runtime calls, which run in the shard's curl multi handle
 * (upstream_start) while the loop goes on; when the last one is back,
 * handler_task_finish builds the answer. The job owns the request until
 * it is answered, then the answer (head and body) until fcgiloop_on_done
 * hands it to the connection.
 */
#include <stdlib.h>
#include <string.h>

#include "fcgiloop.h"
#include "fcgiloop_int.h"
#include "xalloc.h"

static ssize_t
fcgiloop_read_body(void *arg, char *buf, size_t cap)
{
	struct fcgiloop_job *job = arg;
	size_t n = job->req->body_len - job->body_pos;

	if (n > cap)
		n = cap;
	if (n == 0)
		return 0;	/* body may be NULL: no memcpy from it */
	memcpy(buf, job->req->body + job->body_pos, n);
	job->body_pos += n;
	return (ssize_t)n;
}

/* The handler's view of the request's params. */
static void
fcgiloop_fill_req(struct fcgiloop_job *job)
{
	const struct fcgirec_req *r = job->req;
	struct handler_req *req = &job->hreq;

	req->method = fcgirec_req_param(r, "REQUEST_METHOD");
	req->uri = fcgirec_req_param(r, "REQUEST_URI");
	if (req->uri == NULL) {
		/* Not seen with lighttpd, nginx or Apache; the documented
		 * fallback of docs/api.md. */
		const char *doc = fcgirec_req_param(r, "DOCUMENT_URI");
		const char *qs = fcgirec_req_param(r, "QUERY_STRING");

		if (doc != NULL) {
			job->uri = xasprintf("%s%s%s", doc,
			    qs != NULL && *qs ? "?" : "",
			    qs != NULL && *qs ? qs : "");
			req->uri = job->uri;
		}
	}
	req->content_type = fcgirec_req_param(r, "CONTENT_TYPE");
	req->content_length = fcgirec_req_param(r, "CONTENT_LENGTH");
	req->request_id = fcgirec_req_param(r, "HTTP_X_REQUEST_ID");
	req->read_body = fcgiloop_read_body;
	req->read_arg = job;
}

/* The handler's response becomes the job's answer; the request is
 * dropped and the answer goes to the connection. */
static void
fcgiloop_answer(struct fcgiloop_shard *s, struct fcgiloop_job *job)
{
	struct resp *out = &job->out;

	fcgim_request_end(s->ctx.metrics, out->route, out->rt_ref,
	    out->status);
	job->head = resp_headers(out);
	job->head_len = strlen(job->head);
	if (!out->head) {
		job->body = out->body;
		job->body_len = out->body_len;
		out->body = NULL;
	}
	resp_clear(out);
	fcgirec_req_free(job->req);
	job->req = NULL;
	fcgiloop_on_done(s, job);
}

static void fcgiloop_start_waiting(struct fcgiloop_shard *s);

/* upstream_done_fn: the job's runtime calls are back. */
static void
fcgiloop_called(void *arg)
{
	struct fcgiloop_job *job = arg;
	struct fcgiloop_shard *s = job->s;

	job->batch = NULL;
	s->calls -= job->ncalls;
	handler_task_finish(job->task);
	job->task = NULL;
	fcgiloop_answer(s, job);
	fcgiloop_start_waiting(s);
}

/* Sends the job's runtime calls. */
static void
fcgiloop_call(struct fcgiloop_shard *s, struct fcgiloop_job *job)
{
	struct upstream_call *calls = handler_task_calls(job->task,
	    &job->ncalls);

	s->calls += job->ncalls;
	job->batch = upstream_start(s->ctx.up, calls, job->ncalls,
	    job->out.request_id, fcgiloop_called, job);
}

/* Whether n more calls fit (a request alone always does). */
static bool
fcgiloop_calls_fit(const struct fcgiloop_shard *s, size_t n)
{
	return s->calls == 0 || s->calls + n <= s->l->max_calls;
}

/* Starts waiting requests, oldest first, while their calls fit. One
 * whose web server left meanwhile is dropped without calling anyone: a
 * POST nobody waits for is not sent. */
static void
fcgiloop_start_waiting(struct fcgiloop_shard *s)
{
	while (s->wait_head != NULL) {
		struct fcgiloop_job *job = s->wait_head;

		if (!fcgiloop_calls_fit(s, job->ncalls))
			return;
		s->wait_head = job->next;
		if (s->wait_head == NULL)
			s->wait_tail = NULL;
		job->next = NULL;
		if (job->conn->src.fd < 0 || job->conn->aborted) {
			fcgiloop_job_cut(s, job);
			fcgirec_req_free(job->req);
			job->req = NULL;
			fcgiloop_on_done(s, job);
			continue;
		}
		fcgiloop_call(s, job);
	}
}

void
fcgiloop_serve(struct fcgiloop_shard *s, struct fcgiloop_job *job)
{
	fcgiloop_fill_req(job);
	if (fcgim_serve(s->ctx.metrics, s->ctx.reg, job->hreq.method,
	    job->hreq.uri, &job->head, &job->body, &job->body_len)) {
		job->head_len = strlen(job->head);
		fcgirec_req_free(job->req);
		job->req = NULL;
		fcgiloop_on_done(s, job);
		return;
	}
	fcgim_request_begin(s->ctx.metrics);
	job->task = handler_begin(&s->ctx, &job->hreq, &job->out);
	if (job->task == NULL) {
		fcgiloop_answer(s, job);
		return;
	}
	(void)handler_task_calls(job->task, &job->ncalls);
	if (s->wait_head == NULL && fcgiloop_calls_fit(s, job->ncalls)) {
		fcgiloop_call(s, job);
		return;
	}
	if (s->wait_tail != NULL)
		s->wait_tail->next = job;
	else
		s->wait_head = job;
	s->wait_tail = job;
}

void
fcgiloop_job_cut(struct fcgiloop_shard *s, struct fcgiloop_job *job)
{
	if (job->batch != NULL) {
		upstream_cancel(s->ctx.up, job->batch);
		s->calls -= job->ncalls;
	}
	job->batch = NULL;
	handler_task_free(job->task);
	job->task = NULL;
	/* Counted as what the web server answers for a FastCGI application
	 * that went away (nginx: 502; the metrics take it as unavailable). */
	fcgim_request_end(s->ctx.metrics, job->out.route, job->out.rt_ref,
	    503);
	resp_clear(&job->out);
}

void
fcgiloop_job_free(struct fcgiloop_job *job)
{
	if (job == NULL)
		return;
	fcgirec_req_free(job->req);
	free(job->uri);
	free(job->head);
	free(job->body);
	free(job);
}
