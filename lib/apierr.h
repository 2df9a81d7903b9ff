/*
 * apierr — the one browser error vocabulary of wrg (browser-api.md,
 * "Errors"): for each error its HTTP status, its stable code and the
 * wrg-written message, and the one builder of the error body
 * {"error": {"code", "message", "runtime_id"?, "runtime_code"?,
 * "request_id"}}. wrg.fcgi's REST errors and wrg-wsproxy's refused
 * upgrades both answer from this table, so one failure reads the same
 * over either transport.
 *
 * Transport-independent: the mapping of runtime (upstream) outcomes to
 * this table is wrg.fcgi's and lives in src/apierr_upstream.h.
 */
#ifndef WRG_APIERR_H
#define WRG_APIERR_H

#include <json-c/json.h>

enum apierr {
	APIERR_OK = 0,
	APIERR_INVALID_JSON,
	APIERR_INVALID_REQUEST,
	APIERR_INVALID_ID,	/* invalid_request: a bad id in the path */
	APIERR_NOT_FOUND,
	APIERR_RUNTIME_NOT_FOUND,
	APIERR_WORKER_NOT_FOUND,
	APIERR_METHOD_NOT_ALLOWED,
	APIERR_ORIGIN_NOT_ALLOWED,	/* event stream upgrades only */
	APIERR_REQUEST_TOO_LARGE,
	APIERR_UNSUPPORTED_MEDIA_TYPE,
	APIERR_SHUTTING_DOWN,		/* unavailable: event streams */
	APIERR_TOO_MANY_STREAMS,	/* unavailable: event streams */
	APIERR_RUNTIME_REJECTED,
	APIERR_RUNTIME_UNSUPPORTED,
	APIERR_RUNTIME_UNREACHABLE,
	APIERR_RUNTIME_AUTH_FAILED,
	APIERR_RUNTIME_TLS_FAILED,
	APIERR_RUNTIME_BAD_RESPONSE,
	APIERR_RUNTIME_ERROR,
	APIERR_RUNTIME_TIMEOUT,
	APIERR__COUNT
};

/* The HTTP status of an error (runtime_rejected: 400; the actual status
 * of a rejection is the runtime's own 400 or 409, see apierr_upstream).
 * Out of range: 500. */
int apierr_status(enum apierr e);

/* The stable code string, e.g. "runtime_unreachable". Several errors
 * may share a code (invalid_request, unavailable) with different
 * messages. Static storage. */
const char *apierr_code(enum apierr e);

/* The default wrg-written message. Static storage. */
const char *apierr_message(enum apierr e);

/* The RuntimeView status word for a failed runtime: "unreachable",
 * "unauthorized", "timeout" or "error". Static storage. */
const char *apierr_runtime_status(enum apierr e);

/* A new error body object (owned by the caller) for e: message NULL
 * means the table's; runtime_id NULL or "" and runtime_code NULL are
 * left out; request_id NULL is left out (browser-api.md wants one in
 * every answer: callers pass theirs). Every string is copied. */
struct json_object *apierr_object(enum apierr e, const char *message,
    const char *runtime_id, const char *runtime_code,
    const char *request_id);

/* The same body for e with the table's message, serialized compactly as
 * a new string owned by the caller. */
char *apierr_body(enum apierr e, const char *request_id);

#endif
