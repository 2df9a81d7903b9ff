/*
 * Unit tests for wsproxy/upgrade.c: the raw events path through
 * route_parse (as REST routes REQUEST_URI), Origin rules with the
 * forwarded scheme, and the upstream path (one escaped segment, escaped
 * cursor).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "registry.h"
#include "upgrade.h"
#include "wlog.h"

static struct registry *
load(const char *text)
{
	char *err = NULL;
	struct registry *reg = registry_load_buffer("test.conf", text,
	    strlen(text), &err);

	if (!reg)
		fail_msg("config: %s", err ? err : "?");
	return reg;
}

static const char *const conf_plain =
    "{\"runtimes\": [{\"id\": \"rt-a\", \"base_url\": "
    "\"http://127.0.0.1:9/base\"}]}";
static const char *const conf_origins =
    "{\"api_prefix\": \"/gw/api\", \"allowed_origins\": "
    "[\"https://panel.example\", \"http://localhost:8080\"], "
    "\"runtimes\": [{\"id\": \"rt-a\", \"base_url\": "
    "\"http://127.0.0.1:9\"}]}";

static enum upgrade_result
check(struct registry *reg, const char *path, const char *origin,
    const char *host, struct route *rt)
{
	return upgrade_check(reg, path, strlen(path), origin, host, NULL, rt);
}

/* The host/port rule, with the browser's scheme as the front forwards it
 * equal to the Origin's own (the scheme rule has its own test). */
static bool
allowed(struct registry *reg, const char *origin, const char *host)
{
	const char *proto = origin && strncasecmp(origin, "https:", 6) == 0 ?
	    "https" : NULL;

	return upgrade_origin_allowed(reg, origin, host, proto);
}

static void
test_path(void **state)
{
	struct registry *reg = load(conf_plain);
	struct route rt;

	(void)state;
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/worker-1/"
	    "events/ws", NULL, NULL, &rt), UPGRADE_OK);
	assert_string_equal(rt.runtime_id, "rt-a");
	assert_string_equal(rt.worker_id, "worker-1");
	/* The raw path, decoded once as in REST: '+' is a '+' (lws would
	 * have made it a space), %20 a space, %2B a '+'. */
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/w%201+x%2By%25/"
	    "events/ws", NULL, NULL, &rt), UPGRADE_OK);
	assert_string_equal(rt.worker_id, "w 1+x+y%");
	assert_int_equal(rt.worker_id_len, 8);
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/a;b&c=d/"
	    "events/ws", NULL, NULL, &rt), UPGRADE_OK);
	assert_string_equal(rt.worker_id, "a;b&c=d");
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/%C3%A9/"
	    "events/ws", NULL, NULL, &rt), UPGRADE_OK);
	assert_string_equal(rt.worker_id, "\xc3\xa9");
	/* An escaped '/' stays inside its segment (and fails the id
	 * rules only if they say so). */
	assert_int_not_equal(check(reg, "/api/runtimes/rt-a/workers/a%2Fb/"
	    "events/ws", NULL, NULL, &rt), UPGRADE_NOT_FOUND);
	/* An unknown runtime passes here (diagnostic later). */
	assert_int_equal(check(reg, "/api/runtimes/nope/workers/w/events/ws",
	    NULL, NULL, &rt), UPGRADE_OK);
	/* Other routes and shapes are 404. */
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/w", NULL,
	    NULL, &rt), UPGRADE_NOT_FOUND);
	assert_int_equal(check(reg, "/api/health", NULL, NULL, &rt),
	    UPGRADE_NOT_FOUND);
	assert_int_equal(check(reg, "/other/runtimes/rt-a/workers/w/events/ws",
	    NULL, NULL, &rt), UPGRADE_NOT_FOUND);
	/* A raw '/' inside an id makes extra segments: no route; dot
	 * segments are not folded. */
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/a/b/events/ws",
	    NULL, NULL, &rt), UPGRADE_NOT_FOUND);
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/w/../w/"
	    "events/ws", NULL, NULL, &rt), UPGRADE_NOT_FOUND);
	/* Ids the id rules refuse. */
	assert_int_equal(check(reg, "/api/runtimes/rt%20a/workers/w/events/ws",
	    NULL, NULL, &rt), UPGRADE_BAD_ID);
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/a%01/"
	    "events/ws", NULL, NULL, &rt), UPGRADE_BAD_ID);
	assert_int_equal(check(reg, "/api/runtimes/rt-a/workers/%FF%FE/"
	    "events/ws", NULL, NULL, &rt), UPGRADE_BAD_ID);
	registry_free(reg);
}

/* Origin, Host, and whether upgrade_origin_allowed must let it in. */
struct origin_case {
	const char *origin, *host;
	bool allowed;
};

static void
check_origins(struct registry *reg, const struct origin_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (allowed(reg, c[i].origin, c[i].host) != c[i].allowed)
			fail_msg("origin %s, host %s: want %s",
			    c[i].origin ? c[i].origin : "(none)",
			    c[i].host ? c[i].host : "(none)",
			    c[i].allowed ? "allowed" : "refused");
}

static void
test_origin_same_host(void **state)
{
	static const struct origin_case cases[] = {
		{ NULL, "x", true },
		{ "http://gw.example:8080", "gw.example:8080", true },
		{ "HTTP://GW.example", "gw.example", true },
		{ "http://gw.example", "gw.example:80", true },
		{ "https://gw.example:443", "gw.example", true },
		{ "http://evil.example", "gw.example", false },
		{ "http://gw.example:8081", "gw.example:8080", false },
		{ "http://gw.example", NULL, false },
		{ "null", "gw.example", false },
		{ "http://gw.example/x", "gw.example", false },
		/* Same host AND port: the scheme's default port counts. */
		{ "https://127.0.0.1", "127.0.0.1:80", false },
		{ "http://127.0.0.1", "127.0.0.1:443", false },
		{ "https://gw.example", "gw.example:8080", false },
		{ "http://gw.example:8080", "gw.example", false },
		{ "http://gw.example", "gw.example:8080", false },
		{ "https://gw.example", "gw.example:443", true },
		{ "https://gw.example", "gw.example", true },
		{ "https://gw.example:8443", "GW.example:8443", true },
		/* IPv6 literals, malformed ports and hosts. */
		{ "http://[::1]:8080", "[::1]:8080", true },
		{ "http://[::1]", "[::1]:80", true },
		{ "http://[::1]:8080", "[::1]:8081", false },
		{ "http://gw.example:080x", "gw.example:080x", false },
		{ "http://gw.example:", "gw.example:", false },
		{ "http://gw.example:99999", "gw.example:99999", false },
		{ "http://:80", ":80", false },
		{ "ftp://gw.example", "gw.example", false },
		{ "http://gw.example:80", "gw.example:0080", true },
	};
	struct registry *reg = load(conf_plain);

	(void)state;
	check_origins(reg, cases, sizeof(cases) / sizeof(cases[0]));
	registry_free(reg);
}

static void
test_origin_list(void **state)
{
	static const struct origin_case cases[] = {
		{ "https://panel.example", "whatever", true },
		{ "http://localhost:8080", "localhost:8080", true },
		{ "http://panel.example", "panel.example", false },
		{ "https://evil.example", "evil.example", false },
	};
	struct registry *reg = load(conf_origins);
	struct route rt;

	(void)state;
	check_origins(reg, cases, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(check(reg, "/gw/api/runtimes/rt-a/workers/w/events/ws",
	    "https://evil.example", "evil.example", &rt), UPGRADE_FORBIDDEN);
	assert_int_equal(check(reg, "/gw/api/runtimes/rt-a/workers/w/events/ws",
	    "https://panel.example", "gw", &rt), UPGRADE_OK);
	registry_free(reg);
}

/* A refused upgrade answers from lib/apierr's table: the same code and
 * message a REST request with that fault gets, in the same body shape. */
static void
test_refusal(void **state)
{
	static const struct {
		enum upgrade_result r;
		int status;
		const char *body;
	} rows[] = {
		{ UPGRADE_NOT_FOUND, 404, "{\"error\":{\"code\":\"not_found\","
		  "\"message\":\"no such route\",\"request_id\":\"q\"}}" },
		{ UPGRADE_BAD_ID, 400, "{\"error\":{\"code\":"
		  "\"invalid_request\",\"message\":\"a runtime or worker id "
		  "in the path is invalid\",\"request_id\":\"q\"}}" },
		{ UPGRADE_FORBIDDEN, 403, "{\"error\":{\"code\":"
		  "\"origin_not_allowed\",\"message\":\"this origin may not "
		  "open event streams\",\"request_id\":\"q\"}}" },
	};

	(void)state;
	assert_int_equal(upgrade_refusal(UPGRADE_OK), APIERR_OK);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum apierr e = upgrade_refusal(rows[i].r);
		char *body = apierr_body(e, "q");

		assert_int_equal(apierr_status(e), rows[i].status);
		assert_string_equal(body, rows[i].body);
		free(body);
	}
}

static void
test_upstream_path(void **state)
{
	char *p;

	(void)state;
	p = upgrade_upstream_path("", "worker-1", 8, NULL);
	assert_string_equal(p, "/v1/workers/worker-1/events/ws");
	free(p);
	p = upgrade_upstream_path("/base", "a b/../c?d#e%", 13, "wo_1");
	assert_string_equal(p, "/base/v1/workers/a%20b%2F..%2Fc%3Fd%23e%25/"
	    "events/ws?cursor=wo_1");
	free(p);
	p = upgrade_upstream_path("", "w", 1, "a&b=c d");
	assert_string_equal(p, "/v1/workers/w/events/ws?cursor=a%26b%3Dc%20d");
	free(p);
	/* Embedded NUL-free UTF-8 is escaped byte-wise. */
	p = upgrade_upstream_path("", "\xc3\xa9", 2, NULL);
	assert_string_equal(p, "/v1/workers/%C3%A9/events/ws");
	free(p);
}

/* Without allowed_origins the Origin's scheme must be the one the
 * browser used, as forwarded by the web server (none: plain http). */
static void
test_origin_scheme(void **state)
{
	struct registry *reg = load(conf_plain);

	(void)state;
	assert_true(upgrade_origin_allowed(reg, "http://gw.example",
	    "gw.example", NULL));
	assert_true(upgrade_origin_allowed(reg, "http://gw.example",
	    "gw.example", ""));
	assert_false(upgrade_origin_allowed(reg, "https://gw.example",
	    "gw.example", NULL));
	assert_false(upgrade_origin_allowed(reg, "https://gw.example:8443",
	    "gw.example:8443", NULL));
	assert_true(upgrade_origin_allowed(reg, "https://gw.example:8443",
	    "gw.example:8443", "https"));
	assert_true(upgrade_origin_allowed(reg, "HTTPS://gw.example",
	    "gw.example", "https"));
	assert_false(upgrade_origin_allowed(reg, "http://gw.example",
	    "gw.example", "https"));
	assert_false(upgrade_origin_allowed(reg, "http://gw.example",
	    "gw.example", "-"));
	assert_false(upgrade_origin_allowed(reg, "https://gw.example",
	    "gw.example", "-"));
	registry_free(reg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_origin_same_host),
		cmocka_unit_test(test_origin_list),
		cmocka_unit_test(test_upstream_path),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_origin_scheme),
	};

	wlog_init("test_wsproxy_upgrade", WLOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
