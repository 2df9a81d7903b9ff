/*
 * Unit tests of wrg.fcgi's half of apierr (apierr_upstream) and the
 * response builder (resp): the upstream -> browser mapping for each HTTP
 * status class, and the scrubbing of runtime rejection messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apierr_upstream.h"
#include "resp.h"
#include "wjson.h"
#include "wlog.h"

static const char conf[] =
    "{\"runtimes\": ["
    "  {\"id\": \"a\", \"base_url\": \"https://runtime.example:8443/base\","
    "   \"token\": \"tok-XYZ\"},"
    "  {\"id\": \"b\", \"base_url\": \"unix:/srv/rt/b.sock\"}]}";

static struct registry *reg;

static int
setup(void **state)
{
	char *err = NULL;

	(void)state;
	wlog_init("test", WLOG_ERR);
	reg = registry_load_buffer("unit.conf", conf, strlen(conf), &err);
	if (reg == NULL)
		fail_msg("config: %s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	registry_free(reg);
	return 0;
}

static void
classify(enum upstream_err err, long status, const char *body,
    struct apierr_upstream *u)
{
	struct upstream_call c;

	memset(&c, 0, sizeof(c));
	c.rt = &reg->runtimes[0];
	c.path = strdup("/v1/workers/w");
	c.err = err;
	c.status = status;
	if (body) {
		c.resp = strdup(body);
		c.resp_len = strlen(body);
	}
	snprintf(c.detail, sizeof(c.detail), "Could not resolve host: "
	    "runtime.example");
	apierr_upstream(reg, c.rt, &c, "rid", u);
	free(c.path);
	free(c.resp);
}

/* One runtime outcome and what apierr_upstream must make of it; 0 / NULL
 * / U_ANY: not checked. message: M_NULL, or the expected string. */
enum { U_ANY, U_YES, U_NO };
static const char m_null[] = "(must be NULL)";	/* compared by address */
#define M_NULL m_null
static const struct {
	enum upstream_err ue;
	long status;
	const char *body;
	enum apierr err;
	int want_status;
	int unsupported;
	const char *runtime_code, *message;
} mapping[] = {
	{ UPSTREAM_OK, 200, "{}", APIERR_OK, 0, U_ANY, NULL, NULL },
	{ UPSTREAM_OK, 201, "{}", APIERR_OK, 0, U_ANY, NULL, NULL },
	{ UPSTREAM_ERR_TIMEOUT, 0, NULL, APIERR_RUNTIME_TIMEOUT, 504, U_ANY,
	    NULL, NULL },
	{ UPSTREAM_OK, 401, "", APIERR_RUNTIME_AUTH_FAILED, 502, U_ANY, NULL,
	    NULL },
	{ UPSTREAM_OK, 404, "<html>nope</html>", APIERR_RUNTIME_UNSUPPORTED,
	    0, U_YES, NULL, NULL },
	{ UPSTREAM_OK, 404, "{\"error\":{\"code\":\"worker_not_found\""
	    ",\"message\":\"m\"}}", APIERR_WORKER_NOT_FOUND, 0, U_NO, NULL,
	    NULL },
	{ UPSTREAM_OK, 404, "{\"error\":{\"code\":\"other\"}}",
	    APIERR_RUNTIME_ERROR, 0, U_ANY, NULL, NULL },
	/* Any JSON answer is the runtime speaking about this request, not
	 * a router miss: it must not mark the operation unsupported. */
	{ UPSTREAM_OK, 404, "{\"detail\":\"nope\"}", APIERR_RUNTIME_ERROR, 0,
	    U_NO, NULL, NULL },
	{ UPSTREAM_OK, 405, "", APIERR_RUNTIME_UNSUPPORTED, 0, U_YES, NULL,
	    NULL },
	{ UPSTREAM_OK, 409, "{\"error\":{\"code\":\"runtime_stopped\","
	    "\"message\":\"stopped\"}}", APIERR_RUNTIME_REJECTED, 409, U_ANY,
	    "runtime_stopped", "stopped" },
	{ UPSTREAM_OK, 400, "not json", APIERR_RUNTIME_ERROR, 0, U_ANY, NULL,
	    NULL },
	{ UPSTREAM_OK, 400, "{\"error\":{\"code\":\"invalid_json\"}}",
	    APIERR_RUNTIME_REJECTED, 0, U_ANY, NULL,
	    "the runtime rejected the request" },
	{ UPSTREAM_OK, 500, "{\"error\":{\"code\":\"store_io\","
	    "\"message\":\"/var/lib/x\"}}", APIERR_RUNTIME_ERROR, 0, U_ANY,
	    NULL, M_NULL },
	{ UPSTREAM_OK, 204, NULL, APIERR_OK, 0, U_ANY, NULL, NULL },
	{ UPSTREAM_OK, 101, NULL, APIERR_RUNTIME_BAD_RESPONSE, 0, U_ANY, NULL,
	    NULL },
};

static void
test_mapping(void **state)
{
	struct apierr_upstream u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mapping) / sizeof(mapping[0]); i++) {
		classify(mapping[i].ue, mapping[i].status, mapping[i].body,
		    &u);
		assert_int_equal(u.err, mapping[i].err);
		if (mapping[i].want_status != 0)
			assert_int_equal(u.status, mapping[i].want_status);
		if (mapping[i].unsupported != U_ANY)
			assert_int_equal(u.unsupported,
			    mapping[i].unsupported == U_YES);
		if (mapping[i].runtime_code != NULL)
			assert_string_equal(u.runtime_code,
			    mapping[i].runtime_code);
		if (mapping[i].message == M_NULL)
			assert_null(u.message);
		else if (mapping[i].message != NULL)
			assert_string_equal(u.message, mapping[i].message);
		apierr_upstream_clear(&u);
	}
}

static void
test_scrub(void **state)
{
	static const char *const refused[] = {
	    "see https://runtime.example:8443/base/v1/x",
	    "host runtime.example said no", "port 8443", "under /base",
	    "socket /srv/rt/b.sock", "token tok-XYZ", "unix:/x",
	    "GET /v1/workers failed", "line\nbreak", "tab\there",
	    "connect to localhost", "Bearer abc", "",
	    "host RUNTIME.Example said no", "bearer abc",
	    /* parts of a token, and any spelling of an address */
	    "token tok-XYZ1 is wrong",
	    "peer 10.9.8.7 refused", "bound to 0.0.0.0", "at fe80::1 now",
	    "[2001:db8::7] said no",
	    /* an address against hex letters ('a'-'f'): found by
	     * scripts/fuzz.sh fcgi_upstream */
	    "host db10.0.0.5 down", "peer 10.0.0.5a said no",
	    "at cafe10.1.2.3", "connect 10.1.2.3failed",
	};
	char *s, longmsg[400];

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		s = apierr_scrub(reg, refused[i]);
		if (s != NULL)
			fail_msg("passed: %s", refused[i]);
	}
	assert_null(apierr_scrub(reg, NULL));
	memset(longmsg, 'a', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	assert_null(apierr_scrub(reg, longmsg));
	s = apierr_scrub(reg, "limit 300 is above 256");
	assert_string_equal(s, "limit 300 is above 256");
	free(s);
	s = apierr_scrub(reg, "intent.kind must be one of: task, role");
	assert_non_null(s);
	free(s);
	s = apierr_scrub(reg, "version 1.2.3 needs field a.b");
	assert_non_null(s);
	free(s);
	{
		/* Any 8-byte run of a longer token is refused. */
		static const char lc[] = "{\"runtimes\": [{\"id\": \"l\", "
		    "\"base_url\": \"http://h\", \"token\": "
		    "\"0123456789abcdefghij\"}]}";
		char *err = NULL;
		struct registry *lr = registry_load_buffer("l.conf", lc,
		    strlen(lc), &err);

		assert_non_null(lr);
		assert_null(apierr_scrub(lr, "token 6789abcd is wrong"));
		s = apierr_scrub(lr, "token 6789abc is wrong");
		assert_non_null(s);
		free(s);
		registry_free(lr);
	}
}

/* A rejection's code passes only as a short [a-z0-9_.] identifier that
 * also passes the message scrub; anything else becomes "unknown". */
static void
test_runtime_code(void **state)
{
	static const char lc[] = "{\"runtimes\": [{\"id\": \"l\", "
	    "\"base_url\": \"http://rt.example:8443\", \"token\": "
	    "\"0123456789abcdefghij\"}]}";
	static const char *const refused[] = { "127.0.0.1", "10.0.0.7",
	    "x.192.168.1.20", "invalid_requ127.0.0.1est", "db10.0.0.5",
	    "rt.example", "bad.rt.example.x", "8443",
	    "e8443", "localhost", "x6789abcdy", "",
	    "Upper", "with space", "dash-ed", "colon:1", "slash/x",
	    "a_really_long_code_of_more_than_sixty_four_bytes_is_not_a_code_"
	    "at_all" };
	struct apierr_upstream u;
	struct upstream_call c;
	struct registry *lr;
	char *err = NULL, body[256];

	(void)state;
	lr = registry_load_buffer("l.conf", lc, strlen(lc), &err);
	assert_non_null(lr);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.rt = &lr->runtimes[0];
		c.path = strdup("/v1/workers");
		c.status = 400;
		snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\","
		    "\"message\":\"m\"}}", refused[i]);
		c.resp = strdup(body);
		c.resp_len = strlen(body);
		apierr_upstream(lr, c.rt, &c, "rid", &u);
		assert_int_equal(u.err, APIERR_RUNTIME_REJECTED);
		if (strcmp(u.runtime_code, "unknown") != 0)
			fail_msg("code '%s' passed as '%s'", refused[i],
			    u.runtime_code);
		apierr_upstream_clear(&u);
		upstream_call_clear(&c);
	}
	registry_free(lr);

	classify(UPSTREAM_OK, 400, "{\"error\":{\"code\":\"limit_too_large\","
	    "\"message\":\"m\"}}", &u);
	assert_string_equal(u.runtime_code, "limit_too_large");
	apierr_upstream_clear(&u);
	classify(UPSTREAM_OK, 409, "{\"error\":{\"code\":\"v1.runtime_stopped\","
	    "\"message\":\"m\"}}", &u);
	assert_string_equal(u.runtime_code, "v1.runtime_stopped");
	apierr_upstream_clear(&u);
}

static void
test_resp(void **state)
{
	struct resp r;
	struct apierr_upstream u;
	struct json_object *j, *e, *m;
	char *head;

	(void)state;
	memset(&r, 0, sizeof(r));
	snprintf(r.request_id, sizeof(r.request_id), "req-1");
	resp_error(&r, APIERR_RUNTIME_TIMEOUT, "a", NULL);
	assert_int_equal(r.status, 504);
	j = wjson_parse(r.body, r.body_len, 8);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "error", &e));
	assert_string_equal(wjson_get_string(e, "code"), "runtime_timeout");
	assert_string_equal(wjson_get_string(e, "runtime_id"), "a");
	assert_string_equal(wjson_get_string(e, "request_id"), "req-1");
	assert_false(json_object_object_get_ex(e, "runtime_code", &m));
	json_object_put(j);
	head = resp_headers(&r);
	assert_non_null(strstr(head, "Status: 504 Gateway Timeout\r\n"));
	assert_non_null(strstr(head, "X-Request-Id: req-1\r\n"));
	assert_int_equal(strcmp(head + strlen(head) - 4, "\r\n\r\n"), 0);
	free(head);

	memset(&u, 0, sizeof(u));
	u.err = APIERR_RUNTIME_REJECTED;
	u.status = 409;
	u.runtime_code = strdup("runtime_stopped");
	u.message = strdup("stopped");
	resp_upstream_error(&r, &u, "a");
	apierr_upstream_clear(&u);
	assert_int_equal(r.status, 409);
	j = wjson_parse(r.body, r.body_len, 8);
	assert_true(json_object_object_get_ex(j, "error", &e));
	assert_string_equal(wjson_get_string(e, "code"), "runtime_rejected");
	assert_string_equal(wjson_get_string(e, "runtime_code"),
	    "runtime_stopped");
	assert_string_equal(wjson_get_string(e, "message"), "stopped");
	json_object_put(j);

	r.allow = "GET, HEAD";
	resp_error(&r, APIERR_METHOD_NOT_ALLOWED, NULL, NULL);
	head = resp_headers(&r);
	assert_non_null(strstr(head, "Allow: GET, HEAD\r\n"));
	assert_null(strstr(r.body, "runtime_id"));
	free(head);
	resp_clear(&r);
	resp_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_runtime_code),
		cmocka_unit_test(test_resp),
	};

	return cmocka_run_group_tests_name("fcgi_apierr", tests, setup,
	    teardown);
}
