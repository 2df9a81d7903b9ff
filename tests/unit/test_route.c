/*
 * Unit tests for lib/route: the browser path router. The security
 * property under test: nothing in an id segment can change the route or
 * add a segment; odd ids are refused, not rewritten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "route.h"

static enum route_err
parse(const char *path, struct route *r)
{
	return route_parse("/api", path, strlen(path), r);
}

static void
test_routes(void **state)
{
	static const struct {
		const char *path;
		enum route_kind kind;
	} cases[] = {
		{ "/api/health", ROUTE_HEALTH },
		{ "/api/runtimes", ROUTE_RUNTIMES },
		{ "/api/runtimes/rt-a", ROUTE_RUNTIME },
		{ "/api/workers", ROUTE_WORKERS_ALL },
		{ "/api/runtimes/rt-a/workers", ROUTE_RUNTIME_WORKERS },
		{ "/api/runtimes/rt-a/workers/w1", ROUTE_WORKER },
		{ "/api/runtimes/rt-a/workers/w1/input", ROUTE_WORKER_INPUT },
		{ "/api/runtimes/rt-a/workers/w1/stop", ROUTE_WORKER_STOP },
		{ "/api/runtimes/rt-a/workers/w1/cancel", ROUTE_WORKER_CANCEL },
		{ "/api/runtimes/rt-a/workers/w1/transcript",
		    ROUTE_WORKER_TRANSCRIPT },
		{ "/api/runtimes/rt-a/workers/w1/events/ws",
		    ROUTE_WORKER_EVENTS_WS },
	};
	struct route r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].path, &r), ROUTE_OK);
		assert_int_equal(r.kind, cases[i].kind);
	}
	assert_int_equal(parse("/api/runtimes/rt-a/workers/w1/input", &r),
	    ROUTE_OK);
	assert_string_equal(r.runtime_id, "rt-a");
	assert_string_equal(r.worker_id, "w1");
	assert_int_equal(r.worker_id_len, 2);
}

static void
test_not_found(void **state)
{
	static const char *const paths[] = {
		"", "/", "/api", "/api/", "/apix/health", "/api/health/",
		"/api//health", "/api/healthz", "/api/runtimes/", "/api/runtimes//workers",
		"/api/runtimes/rt-a/worker", "/api/runtimes/rt-a/workers/w1/",
		"/api/runtimes/rt-a/workers/w1/start",
		"/api/runtimes/rt-a/workers/w1/events",
		"/api/runtimes/rt-a/workers/w1/events/ws/x",
		"/api/runtimes/rt-a/workers/w1/input/x",
		"/api/%72untimes", "/other/runtimes", "/api/runtimes/a/b/c",
	};
	struct route r;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(parse(paths[i], &r), ROUTE_ERR_NOT_FOUND);
}

static void
test_decoding(void **state)
{
	struct route r;

	(void)state;
	assert_int_equal(parse("/api/runtimes/rt-a/workers/a%20b", &r),
	    ROUTE_OK);
	assert_string_equal(r.worker_id, "a b");
	assert_int_equal(parse("/api/runtimes/rt%2Da/workers/caf%C3%A9", &r),
	    ROUTE_OK);
	assert_string_equal(r.runtime_id, "rt-a");
	assert_string_equal(r.worker_id, "caf\xc3\xa9");
	/* A '%' not followed by hex stays literal. */
	assert_int_equal(parse("/api/runtimes/rt-a/workers/100%", &r), ROUTE_OK);
	assert_string_equal(r.worker_id, "100%");
}

static void
test_bad_ids(void **state)
{
	static const char *const paths[] = {
		"/api/runtimes/rt-a/workers/a%2Fb",
		"/api/runtimes/rt-a/workers/a%2fb/input",
		"/api/runtimes/rt-a/workers/a%00b",
		"/api/runtimes/rt-a/workers/..",
		"/api/runtimes/rt-a/workers/.",
		"/api/runtimes/rt-a/workers/%2E%2E",
		"/api/runtimes/rt-a/workers/%2e",
		"/api/runtimes/rt-a/workers/a%0Ab",
		"/api/runtimes/rt-a/workers/%FF",
		"/api/runtimes/rt%2Fa/workers/w1",
		"/api/runtimes/rt%00a",
		"/api/runtimes/rt a",
		"/api/runtimes/%2E%2E/workers",
	};
	struct route r;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (parse(paths[i], &r) != ROUTE_ERR_BAD_ID)
			fail_msg("not refused as a bad id: %s", paths[i]);
		assert_int_not_equal(r.kind, ROUTE_NONE);
	}
}

static void
test_length_limits(void **state)
{
	char path[2048];
	struct route r;
	int n;

	(void)state;
	n = snprintf(path, sizeof(path), "/api/runtimes/rt/workers/");
	memset(path + n, 'x', 256);
	path[n + 256] = '\0';
	assert_int_equal(parse(path, &r), ROUTE_OK);
	assert_int_equal(r.worker_id_len, 256);
	path[n + 256] = 'x';
	path[n + 257] = '\0';
	assert_int_equal(parse(path, &r), ROUTE_ERR_BAD_ID);
	/* 256 encoded bytes decode to 256: fine; 257 are not. */
	n = snprintf(path, sizeof(path), "/api/runtimes/rt/workers/");
	for (int i = 0; i < 256; i++)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "%%41");
	assert_int_equal(parse(path, &r), ROUTE_OK);
	assert_int_equal(r.worker_id_len, 256);
	snprintf(path + n, sizeof(path) - (size_t)n, "%%41");
	assert_int_equal(parse(path, &r), ROUTE_ERR_BAD_ID);
	/* 65-byte runtime id. */
	n = snprintf(path, sizeof(path), "/api/runtimes/");
	memset(path + n, 'r', 65);
	path[n + 65] = '\0';
	assert_int_equal(parse(path, &r), ROUTE_ERR_BAD_ID);
}

static void
test_prefix(void **state)
{
	struct route r;
	const char *p = "/wrg/v1/health";

	(void)state;
	assert_int_equal(route_parse("/wrg/v1", p, strlen(p), &r), ROUTE_OK);
	assert_int_equal(r.kind, ROUTE_HEALTH);
	assert_int_equal(route_parse("/api", p, strlen(p), &r),
	    ROUTE_ERR_NOT_FOUND);
	/* Length-bounded: bytes past len are not read. */
	assert_int_equal(route_parse("/api", "/api/healthXYZ", 11, &r),
	    ROUTE_OK);
	assert_int_equal(r.kind, ROUTE_HEALTH);
	/* An embedded NUL in the raw path is refused. */
	assert_int_equal(route_parse("/api", "/api/health\0x", 13, &r),
	    ROUTE_ERR_NOT_FOUND);
}

/* route_method_allowed(route, m) must hold for each allowed m and fail
 * for each refused one (arrays end at NULL). */
static void
check_methods(enum route_kind route, const char *const *allowed,
    const char *const *refused)
{
	for (; *allowed != NULL; allowed++)
		if (!route_method_allowed(route, *allowed))
			fail_msg("route %d: %s refused", (int)route, *allowed);
	for (; *refused != NULL; refused++)
		if (route_method_allowed(route, *refused))
			fail_msg("route %d: '%s' allowed", (int)route, *refused);
}

static void
test_methods(void **state)
{
	(void)state;
	check_methods(ROUTE_HEALTH, (const char *[]){ "GET", "HEAD", NULL },
	    (const char *[]){ "POST", NULL });
	check_methods(ROUTE_RUNTIME_WORKERS,
	    (const char *[]){ "POST", "GET", NULL },
	    (const char *[]){ "DELETE", NULL });
	check_methods(ROUTE_WORKER_STOP, (const char *[]){ "POST", NULL },
	    (const char *[]){ "GET", "POS", "OST", NULL });
	check_methods(ROUTE_WORKER, (const char *[]){ NULL },
	    (const char *[]){ "G", "", NULL });
	check_methods(ROUTE_NONE, (const char *[]){ NULL },
	    (const char *[]){ "GET", NULL });
	assert_string_equal(route_allow(ROUTE_WORKER_INPUT), "POST");
	assert_string_equal(route_allow(ROUTE_RUNTIME_WORKERS),
	    "GET, HEAD, POST");
	assert_string_equal(route_name(ROUTE_WORKER_EVENTS_WS),
	    "worker_events_ws");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_bad_ids),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_methods),
	};

	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
