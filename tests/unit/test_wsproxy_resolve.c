/*
 * Unit tests for wsproxy/resolve.c: numeric hosts pass through without a
 * lookup, names from /etc/hosts resolve to numeric addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "resolve.h"

/* A numeric host is its one address, IPv6 in its canonical spelling. */
static void
test_numeric(void **state)
{
	static const char *const rows[][2] = {	/* { host, address } */
		{ "127.0.0.1", "127.0.0.1" },
		{ "::1", "::1" },
		{ "2001:DB8::1", "2001:db8::1" },
	};
	struct resolve_addrs a;
	enum resolve_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		e = resolve_host(rows[i][0], &a);
		if (e != RESOLVE_OK || a.n != 1 ||
		    strcmp(a.addr[0], rows[i][1]) != 0)
			fail_msg("%s: %s, %zu address(es), first %s", rows[i][0],
			    resolve_strerror(e, &a), a.n,
			    a.n > 0 ? a.addr[0] : "-");
	}
}

/* Every address given back is numeric. */
static void
assert_numeric(const struct resolve_addrs *a)
{
	unsigned char buf[16];
	size_t i;

	for (i = 0; i < a->n; i++)
		assert_true(inet_pton(AF_INET, a->addr[i], buf) == 1 ||
		    inet_pton(AF_INET6, a->addr[i], buf) == 1);
}

static void
test_localhost(void **state)
{
	struct resolve_addrs a;
	size_t i;
	int v4 = 0;

	(void)state;
	/* /etc/hosts: no DNS server needed. */
	assert_int_equal(resolve_host("localhost", &a), RESOLVE_OK);
	assert_true(a.n >= 1 && a.n <= RESOLVE_MAX);
	assert_numeric(&a);
	for (i = 0; i < a.n; i++)
		v4 |= strcmp(a.addr[i], "127.0.0.1") == 0;
	assert_true(v4);
}

/* Each runtime of a registry, by index: numeric and /etc/hosts names
 * resolved, a Unix runtime left empty. */
static void
test_registry(void **state)
{
	static const char conf[] = "{\"runtimes\": ["
	    "{\"id\": \"a\", \"base_url\": \"http://127.0.0.1:1\"},"
	    "{\"id\": \"u\", \"base_url\": \"unix:/tmp/x.sock\"},"
	    "{\"id\": \"n\", \"base_url\": \"https://localhost:2\","
	    " \"tls\": {\"verify\": false}}]}";
	struct resolve_addrs *a;
	struct registry *reg;
	char *err = NULL;

	(void)state;
	reg = registry_load_buffer("t.conf", conf, sizeof(conf) - 1, &err);
	assert_non_null(reg);
	a = resolve_registry(reg);
	assert_int_equal(a[0].n, 1);
	assert_string_equal(a[0].addr[0], "127.0.0.1");
	assert_int_equal(a[1].n, 0);
	assert_true(a[2].n >= 1);
	assert_numeric(&a[2]);
	free(a);
	registry_free(reg);
}

static void
test_empty(void **state)
{
	struct resolve_addrs a;

	(void)state;
	assert_int_not_equal(resolve_host("", &a), RESOLVE_OK);
	assert_int_equal(a.n, 0);
	assert_int_not_equal(resolve_host(NULL, &a), RESOLVE_OK);
	assert_non_null(resolve_strerror(RESOLVE_ERR_LOOKUP, &a));
	assert_string_equal(resolve_strerror(RESOLVE_OK, NULL), "ok");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_localhost),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
