/*
 * api — the REST side of wrg-sample-runtime as a pure function: a parsed
 * request in, a response (status + body) out, no sockets. Implements every
 * route, shape and error of runtime-api.md plus the /_control/ endpoints
 * of docs/sample-runtime.md, the bearer check and the fault switches.
 */
#ifndef SR_API_H
#define SR_API_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

#define API_MAX_BODY (1u << 20)	/* request bodies above this: 400 */

struct api_faults {
	long delay_ms;
	bool fail_500;
	bool invalid_json;
	size_t oversize_bytes;
	bool refuse_token;
	/* Non-empty: every /v1/ request is rejected with 400 and this
	 * error code and message (a runtime saying anything it likes). */
	char reject_code[128];
	char reject_message[512];
};

struct api_ctx {
	struct store *st;
	struct api_faults faults;
	const char *token;		/* NULL = no auth */
	const char *runtime_id;
	const char *display_name;	/* NULL = null */
	const char *state_dir;		/* NULL = memory backend */
	size_t max_transcript;
	/* closes every observation socket, returns how many */
	int (*drop_ws)(void *arg);
	void *drop_ws_arg;
};

struct api_request {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* decoded path, no query */
	const char *query;		/* "a=1&b=2" or "" */
	const char *auth;		/* Authorization header or NULL */
	const char *body;
	size_t body_len;
	bool body_too_large;
	bool body_chunked;		/* chunked body: not supported */
};

struct api_response {
	int status;
	char *body;			/* owned; NULL = no body */
	size_t body_len;
	long delay_ms;			/* answer only after this */
};

/* Handles one request; fills resp (release with api_response_clear). */
void api_handle(struct api_ctx *ctx, const struct api_request *req,
    struct api_response *resp);
void api_response_clear(struct api_response *resp);

/* The WS upgrade gate: true if the Authorization header value is accepted
 * (token matches and the refuse_token fault is off). */
bool api_ws_authorized(const struct api_ctx *ctx, const char *auth);

/* Transcript entry i of w as JSON (owned by the caller): sequence
 * (i + 1), worker_ref when with_ref (GET .../transcript items carry it,
 * WS snapshot entries do not), role, content, event_id. */
struct json_object *api_transcript_entry(const struct api_ctx *ctx,
    const struct store_worker *w, size_t i, bool with_ref);

/* The JSON error body {"error":{"code","message"}}, owned by the caller. */
char *api_error_body(const char *code, const char *message, size_t *len);

#endif
