/*
 * Unit tests of lib/apierr: the one browser error table (every code of
 * browser-api.md with its status, plus the upgrade refusals of
 * docs/wsproxy.md) and the error body both daemons send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "apierr.h"
#include "wjson.h"

/* The table of browser-api.md, verbatim, and docs/wsproxy.md's refusals
 * ("Upgrade refusals"). Every row of the enum is listed. */
static void
test_table(void **state)
{
	static const struct {
		enum apierr e;
		int status;
		const char *code;
		const char *message;
	} want[] = {
		{ APIERR_INVALID_JSON, 400, "invalid_json",
		  "the request body is not a JSON object" },
		{ APIERR_INVALID_REQUEST, 400, "invalid_request",
		  "the request is invalid" },
		{ APIERR_INVALID_ID, 400, "invalid_request",
		  "a runtime or worker id in the path is invalid" },
		{ APIERR_NOT_FOUND, 404, "not_found", "no such route" },
		{ APIERR_RUNTIME_NOT_FOUND, 404, "runtime_not_found",
		  "no runtime with this id is configured" },
		{ APIERR_WORKER_NOT_FOUND, 404, "worker_not_found",
		  "the runtime has no worker with this id" },
		{ APIERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed",
		  "this method is not allowed on this route" },
		{ APIERR_ORIGIN_NOT_ALLOWED, 403, "origin_not_allowed",
		  "this origin may not open event streams" },
		{ APIERR_REQUEST_TOO_LARGE, 413, "request_too_large",
		  "the request body is too large" },
		{ APIERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type",
		  "the request body must be sent as application/json" },
		{ APIERR_SHUTTING_DOWN, 503, "unavailable",
		  "the gateway is shutting down" },
		{ APIERR_TOO_MANY_STREAMS, 503, "unavailable",
		  "too many event streams are open" },
		{ APIERR_RUNTIME_REJECTED, 400, "runtime_rejected",
		  "the runtime rejected the request" },
		{ APIERR_RUNTIME_UNSUPPORTED, 501, "runtime_unsupported",
		  "the runtime does not support this operation" },
		{ APIERR_RUNTIME_UNREACHABLE, 502, "runtime_unreachable",
		  "the runtime could not be reached" },
		{ APIERR_RUNTIME_AUTH_FAILED, 502, "runtime_auth_failed",
		  "the runtime refused the gateway's credentials" },
		{ APIERR_RUNTIME_TLS_FAILED, 502, "runtime_tls_failed",
		  "the TLS connection to the runtime failed" },
		{ APIERR_RUNTIME_BAD_RESPONSE, 502, "runtime_bad_response",
		  "the runtime sent an invalid response" },
		{ APIERR_RUNTIME_ERROR, 502, "runtime_error",
		  "the runtime failed to handle the request" },
		{ APIERR_RUNTIME_TIMEOUT, 504, "runtime_timeout",
		  "the runtime did not answer in time" },
	};

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), APIERR__COUNT - 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(apierr_status(want[i].e), want[i].status);
		assert_string_equal(apierr_code(want[i].e), want[i].code);
		assert_string_equal(apierr_message(want[i].e),
		    want[i].message);
	}
	assert_int_equal(apierr_status(APIERR__COUNT), 500);
	assert_string_equal(apierr_code(APIERR__COUNT), "internal_error");
	assert_string_equal(apierr_runtime_status(APIERR_RUNTIME_UNREACHABLE),
	    "unreachable");
	assert_string_equal(apierr_runtime_status(APIERR_RUNTIME_AUTH_FAILED),
	    "unauthorized");
	assert_string_equal(apierr_runtime_status(APIERR_RUNTIME_TIMEOUT),
	    "timeout");
	assert_string_equal(apierr_runtime_status(APIERR_RUNTIME_ERROR),
	    "error");
	assert_string_equal(apierr_runtime_status(APIERR_OK), "available");
}

/* The body's exact bytes: key order, optional members left out. */
static void
test_object(void **state)
{
	static const struct {
		enum apierr e;
		const char *message, *runtime_id, *runtime_code, *request_id;
		const char *want;
	} rows[] = {
		{ APIERR_NOT_FOUND, NULL, NULL, NULL, "r1",
		  "{\"error\":{\"code\":\"not_found\",\"message\":"
		  "\"no such route\",\"request_id\":\"r1\"}}" },
		{ APIERR_RUNTIME_TIMEOUT, NULL, "rt-a", NULL, "r2",
		  "{\"error\":{\"code\":\"runtime_timeout\",\"message\":"
		  "\"the runtime did not answer in time\",\"runtime_id\":"
		  "\"rt-a\",\"request_id\":\"r2\"}}" },
		{ APIERR_RUNTIME_REJECTED, "busy: try later", "rt-a", "busy",
		  "r3", "{\"error\":{\"code\":\"runtime_rejected\","
		  "\"message\":\"busy: try later\",\"runtime_id\":\"rt-a\","
		  "\"runtime_code\":\"busy\",\"request_id\":\"r3\"}}" },
		{ APIERR_INVALID_ID, NULL, "", NULL, NULL,
		  "{\"error\":{\"code\":\"invalid_request\",\"message\":"
		  "\"a runtime or worker id in the path is invalid\"}}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *o = apierr_object(rows[i].e,
		    rows[i].message, rows[i].runtime_id, rows[i].runtime_code,
		    rows[i].request_id);

		assert_string_equal(wjson_str(o, NULL), rows[i].want);
		json_object_put(o);
	}
}

/* apierr_body is the same object with the table's message. */
static void
test_body(void **state)
{
	char *s;

	(void)state;
	s = apierr_body(APIERR_ORIGIN_NOT_ALLOWED, "Ab-12");
	assert_string_equal(s, "{\"error\":{\"code\":\"origin_not_allowed\","
	    "\"message\":\"this origin may not open event streams\","
	    "\"request_id\":\"Ab-12\"}}");
	free(s);
	s = apierr_body(APIERR_TOO_MANY_STREAMS, "x");
	assert_string_equal(s, "{\"error\":{\"code\":\"unavailable\","
	    "\"message\":\"too many event streams are open\","
	    "\"request_id\":\"x\"}}");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
