/*
 * resp — building and serializing handler responses (see resp.h).
 */
#include "resp.h"

#include <stdlib.h>
#include <string.h>

#include "wjson.h"
#include "xalloc.h"

static const char *
resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 504: return "Gateway Timeout";
	}
	return "Unknown";
}

void
resp_json(struct resp *r, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *s = wjson_str(obj, &len);

	free(r->body);
	r->status = status;
	r->body = xstrndup(s, len);
	r->body_len = len;
	r->body_cap = len + 1;
	json_object_put(obj);
}

/* Appends n bytes to the body being built, growing it geometrically. */
static void
resp_append(struct resp *r, const char *s, size_t n)
{
	if (r->body_len + n + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;

		while (cap < r->body_len + n + 1)
			cap = cap / 2 * 3;
		r->body = xrealloc(r->body, cap);
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, s, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

void
resp_items_begin(struct resp *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
	r->items = 0;
	resp_append(r, "{\"items\":[", 10);
}

void
resp_items_add(struct resp *r, struct json_object *arr)
{
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		const char *s = wjson_str(json_object_array_get_idx(arr, i),
		    &len);

		if (r->items++ > 0)
			resp_append(r, ",", 1);
		resp_append(r, s, len);
	}
}

void
resp_items_end(struct resp *r, struct json_object *diags)
{
	size_t len = 0;
	const char *s = wjson_str(diags, &len);

	resp_append(r, "],\"diagnostics\":", 16);
	resp_append(r, s, len);
	resp_append(r, "}", 1);
	r->status = 200;
	json_object_put(diags);
}

void
resp_error(struct resp *r, enum apierr e, const char *runtime_id,
    const char *message)
{
	resp_json(r, apierr_status(e), apierr_object(e, message, runtime_id,
	    NULL, r->request_id));
}

void
resp_upstream_error(struct resp *r, const struct apierr_upstream *u,
    const char *runtime_id)
{
	if (u->err == APIERR_RUNTIME_REJECTED) {
		/* The runtime's own 400 or 409, its scrubbed code. */
		resp_json(r, u->status, apierr_object(u->err, u->message,
		    runtime_id,
		    u->runtime_code != NULL ? u->runtime_code : "unknown",
		    r->request_id));
		return;
	}
	resp_error(r, u->err, runtime_id, NULL);
}

char *
resp_headers(const struct resp *r)
{
	return xasprintf("Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Request-Id: %s\r\n"
	    "%s%s%s"
	    "\r\n",
	    r->status, resp_reason(r->status), r->body_len, r->request_id,
	    r->allow != NULL ? "Allow: " : "",
	    r->allow != NULL ? r->allow : "",
	    r->allow != NULL ? "\r\n" : "");
}

void
resp_clear(struct resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
}
