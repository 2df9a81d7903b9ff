/*
 * Unit tests for lib/promtext: the Prometheus text writer of both
 * daemons. Exact bytes, since a scraper reads exactly these.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "promtext.h"

static void
test_family_and_samples(void **state)
{
	struct promtext pt;
	const char *const labels[] = { "route", "health", "status", "200",
		"runtime", "", NULL };
	char *s;
	size_t len;

	(void)state;
	promtext_init(&pt);
	promtext_family(&pt, "x_total", "counter", "Lines\nand \\ slashes.");
	promtext_u64(&pt, "x_total", labels, UINT64_MAX);
	promtext_u64(&pt, "x_total", NULL, 0);
	promtext_i64(&pt, "x_gauge", NULL, -3);
	promtext_double(&pt, "x_d", NULL, 0.25);
	s = promtext_take(&pt, &len);
	assert_string_equal(s,
	    "# HELP x_total Lines\\nand \\\\ slashes.\n"
	    "# TYPE x_total counter\n"
	    "x_total{route=\"health\",status=\"200\"} 18446744073709551615\n"
	    "x_total 0\n"
	    "x_gauge -3\n"
	    "x_d 0.25\n");
	assert_int_equal(len, strlen(s));
	assert_null(pt.buf);
	free(s);
}

static void
test_label_escaping(void **state)
{
	struct promtext pt;
	const char *const labels[] = { "a", "q\"b\\s\nn", NULL };
	char *s;
	size_t len;

	(void)state;
	promtext_init(&pt);
	promtext_u64(&pt, "m", labels, 1);
	s = promtext_take(&pt, &len);
	assert_string_equal(s, "m{a=\"q\\\"b\\\\s\\nn\"} 1\n");
	free(s);
}

static void
test_histogram(void **state)
{
	struct promtext pt;
	const double bounds[] = { 0.005, 0.5, 10 };
	const uint64_t counts[] = { 1, 2, 0, 4 };
	const char *const labels[] = { "runtime", "r1", NULL };
	char *s;
	size_t len;

	(void)state;
	promtext_init(&pt);
	promtext_histogram(&pt, "h_seconds", labels, bounds, 3, counts, 1.5);
	promtext_histogram(&pt, "h_seconds", NULL, bounds, 0, counts, 0);
	s = promtext_take(&pt, &len);
	assert_string_equal(s,
	    "h_seconds_bucket{runtime=\"r1\",le=\"0.005\"} 1\n"
	    "h_seconds_bucket{runtime=\"r1\",le=\"0.5\"} 3\n"
	    "h_seconds_bucket{runtime=\"r1\",le=\"10\"} 3\n"
	    "h_seconds_bucket{runtime=\"r1\",le=\"+Inf\"} 7\n"
	    "h_seconds_sum{runtime=\"r1\"} 1.5\n"
	    "h_seconds_count{runtime=\"r1\"} 7\n"
	    "h_seconds_bucket{le=\"+Inf\"} 1\n"
	    "h_seconds_sum 0\n"
	    "h_seconds_count 1\n");
	free(s);
}

static void
test_growth_and_empty(void **state)
{
	struct promtext pt;
	char *s, name[64];
	size_t len;

	(void)state;
	promtext_init(&pt);
	s = promtext_take(&pt, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "metric_%d", i);
		promtext_u64(&pt, name, NULL, (uint64_t)i);
	}
	assert_non_null(strstr(pt.buf, "\nmetric_1999 1999\n"));
	assert_int_equal(pt.len, strlen(pt.buf));
	promtext_clear(&pt);
	assert_null(pt.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_growth_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
