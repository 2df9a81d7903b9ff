/*
 * apierr — the browser error table and the error body (see apierr.h).
 * This file is the only place that decides which status, code and
 * message a browser sees for a failure.
 */
#include "apierr.h"

#include "wjson.h"
#include "xalloc.h"

struct apierr_row {
	int status;
	const char *code;
	const char *message;
	const char *runtime_status;
};

/* The error table of browser-api.md, plus the upgrade refusals of
 * docs/wsproxy.md (origin_not_allowed, unavailable). */
static const struct apierr_row apierr_table[APIERR__COUNT] = {
	[APIERR_OK] = { 200, "ok", "ok", "available" },
	[APIERR_INVALID_JSON] = { 400, "invalid_json",
	    "the request body is not a JSON object", "error" },
	[APIERR_INVALID_REQUEST] = { 400, "invalid_request",
	    "the request is invalid", "error" },
	[APIERR_INVALID_ID] = { 400, "invalid_request",
	    "a runtime or worker id in the path is invalid", "error" },
	[APIERR_NOT_FOUND] = { 404, "not_found", "no such route", "error" },
	[APIERR_RUNTIME_NOT_FOUND] = { 404, "runtime_not_found",
	    "no runtime with this id is configured", "error" },
	[APIERR_WORKER_NOT_FOUND] = { 404, "worker_not_found",
	    "the runtime has no worker with this id", "error" },
	[APIERR_METHOD_NOT_ALLOWED] = { 405, "method_not_allowed",
	    "this method is not allowed on this route", "error" },
	[APIERR_ORIGIN_NOT_ALLOWED] = { 403, "origin_not_allowed",
	    "this origin may not open event streams", "error" },
	[APIERR_REQUEST_TOO_LARGE] = { 413, "request_too_large",
	    "the request body is too large", "error" },
	[APIERR_UNSUPPORTED_MEDIA_TYPE] = { 415, "unsupported_media_type",
	    "the request body must be sent as application/json", "error" },
	[APIERR_SHUTTING_DOWN] = { 503, "unavailable",
	    "the gateway is shutting down", "error" },
	[APIERR_TOO_MANY_STREAMS] = { 503, "unavailable",
	    "too many event streams are open", "error" },
	[APIERR_RUNTIME_REJECTED] = { 400, "runtime_rejected",
	    "the runtime rejected the request", "error" },
	[APIERR_RUNTIME_UNSUPPORTED] = { 501, "runtime_unsupported",
	    "the runtime does not support this operation", "error" },
	[APIERR_RUNTIME_UNREACHABLE] = { 502, "runtime_unreachable",
	    "the runtime could not be reached", "unreachable" },
	[APIERR_RUNTIME_AUTH_FAILED] = { 502, "runtime_auth_failed",
	    "the runtime refused the gateway's credentials", "unauthorized" },
	[APIERR_RUNTIME_TLS_FAILED] = { 502, "runtime_tls_failed",
	    "the TLS connection to the runtime failed", "error" },
	[APIERR_RUNTIME_BAD_RESPONSE] = { 502, "runtime_bad_response",
	    "the runtime sent an invalid response", "error" },
	[APIERR_RUNTIME_ERROR] = { 502, "runtime_error",
	    "the runtime failed to handle the request", "error" },
	[APIERR_RUNTIME_TIMEOUT] = { 504, "runtime_timeout",
	    "the runtime did not answer in time", "timeout" },
};

int
apierr_status(enum apierr e)
{
	return e < APIERR__COUNT ? apierr_table[e].status : 500;
}

const char *
apierr_code(enum apierr e)
{
	return e < APIERR__COUNT ? apierr_table[e].code : "internal_error";
}

const char *
apierr_message(enum apierr e)
{
	return e < APIERR__COUNT ? apierr_table[e].message : "internal error";
}

const char *
apierr_runtime_status(enum apierr e)
{
	return e < APIERR__COUNT ? apierr_table[e].runtime_status : "error";
}

struct json_object *
apierr_object(enum apierr e, const char *message, const char *runtime_id,
    const char *runtime_code, const char *request_id)
{
	struct json_object *root = json_object_new_object();
	struct json_object *err = json_object_new_object();

	/* Key order is part of the bytes browsers and tests have seen. */
	json_object_object_add(err, "code",
	    json_object_new_string(apierr_code(e)));
	json_object_object_add(err, "message", json_object_new_string(
	    message != NULL ? message : apierr_message(e)));
	if (runtime_id != NULL && runtime_id[0] != '\0')
		json_object_object_add(err, "runtime_id",
		    json_object_new_string(runtime_id));
	if (runtime_code != NULL)
		json_object_object_add(err, "runtime_code",
		    json_object_new_string(runtime_code));
	if (request_id != NULL)
		json_object_object_add(err, "request_id",
		    json_object_new_string(request_id));
	json_object_object_add(root, "error", err);
	return root;
}

char *
apierr_body(enum apierr e, const char *request_id)
{
	struct json_object *o = apierr_object(e, NULL, NULL, NULL,
	    request_id);
	char *s = xstrdup(wjson_str(o, NULL));

	json_object_put(o);
	return s;
}
