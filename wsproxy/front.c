/*
 * front — the raw request-target of a browser's head, carried on its
 * wsi (see front.h).
 */
#include "front.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "head.h"
#include "xalloc.h"

void *
front_req_new(void *arg, const char *head, size_t len)
{
	struct front_req *r;
	struct head h;

	(void)arg;
	if (head_parse(head, len, &h) != HEAD_OK)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->target = xstrndup(h.target, h.target_len);
	r->path_len = h.path_len;
	memcpy(r->proto, h.proto, sizeof(r->proto));
	return r;
}

void
front_req_free(void *req)
{
	struct front_req *r = req;

	if (r == NULL)
		return;
	free(r->target);
	free(r);
}

const struct front_req *
front_req_of(struct lws *wsi)
{
	return lws_get_opaque_user_data(wsi);
}

void
front_req_release(struct lws *wsi)
{
	front_req_free(lws_get_opaque_user_data(wsi));
	lws_set_opaque_user_data(wsi, NULL);
}

size_t
front_refusal(char *buf, size_t cap, unsigned status,
    const char *request_id, const char *body)
{
	const char *reason = status == 400 ? "Bad Request" :
	    status == 403 ? "Forbidden" : status == 404 ? "Not Found" :
	    status == 503 ? "Service Unavailable" : "Error";
	int n;

	n = snprintf(buf, cap, "HTTP/1.1 %u %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Request-Id: %s\r\n"
	    "Connection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, reason, request_id,
	    strlen(body), body);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}
