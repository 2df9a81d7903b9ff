/*
 * Unit tests for wsproxy/resume.c: which cursor a reconnect uses, which
 * snapshots reach the browser, and the backoff schedule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "resume.h"

static void
test_first_connect_without_cursor(void **state)
{
	struct resume r;

	(void)state;
	resume_init(&r, NULL);
	assert_null(resume_connect_cursor(&r));
	/* The first snapshot is forwarded and becomes the position. */
	assert_int_equal(resume_on_event(&r, "wo_5", true), RESUME_FORWARD);
	assert_string_equal(resume_connect_cursor(&r), "wo_5");
	/* Reconnect before any event: from the snapshot, snapshot dropped. */
	assert_int_equal(resume_on_event(&r, "wo_9", true), RESUME_DROP);
	assert_string_equal(resume_connect_cursor(&r), "wo_5");
	assert_int_equal(resume_on_event(&r, "wo_6", false), RESUME_FORWARD);
	assert_string_equal(resume_connect_cursor(&r), "wo_6");
}

static void
test_browser_cursor_kept_over_snapshot(void **state)
{
	struct resume r;

	(void)state;
	resume_init(&r, "wo_3");
	assert_string_equal(resume_connect_cursor(&r), "wo_3");
	/* Snapshot taken "now"; the backlog after wo_3 is still to come,
	 * so the position must not jump to the snapshot's cursor. */
	assert_int_equal(resume_on_event(&r, "wo_9", true), RESUME_FORWARD);
	assert_string_equal(resume_connect_cursor(&r), "wo_3");
	assert_int_equal(resume_on_event(&r, "wo_4", false), RESUME_FORWARD);
	assert_string_equal(resume_connect_cursor(&r), "wo_4");
	/* Later reconnects: the repeated snapshot is dropped. */
	assert_int_equal(resume_on_event(&r, "wo_10", true), RESUME_DROP);
	assert_int_equal(resume_on_event(&r, "wo_5", false), RESUME_FORWARD);
	assert_string_equal(resume_connect_cursor(&r), "wo_5");
}

static void
test_expired_resyncs(void **state)
{
	struct resume r;

	(void)state;
	resume_init(&r, "wo_1");
	assert_int_equal(resume_on_event(&r, "wo_99", true), RESUME_FORWARD);
	resume_on_expired(&r);
	assert_null(resume_connect_cursor(&r));
	/* The fresh snapshot is forwarded and is the new position. */
	assert_int_equal(resume_on_event(&r, "wo_99", true), RESUME_FORWARD);
	assert_string_equal(resume_connect_cursor(&r), "wo_99");
	assert_int_equal(resume_on_event(&r, "wo_100", true), RESUME_DROP);
}

static void
test_backoff_schedule(void **state)
{
	(void)state;
	assert_int_equal(resume_backoff_ms(0, 250, 10000), 250);
	assert_int_equal(resume_backoff_ms(1, 250, 10000), 500);
	assert_int_equal(resume_backoff_ms(2, 250, 10000), 1000);
	assert_int_equal(resume_backoff_ms(5, 250, 10000), 8000);
	assert_int_equal(resume_backoff_ms(6, 250, 10000), 10000);
	assert_int_equal(resume_backoff_ms(31, 250, 10000), 10000);
	assert_int_equal(resume_backoff_ms(40, 250, 10000), 10000);
	assert_int_equal(resume_backoff_ms(3, 3000000000u, 4000000000u),
	    4000000000u);
	assert_int_equal(resume_backoff_ms(0, 500, 100), 500);
	assert_int_equal(resume_backoff_ms(0, 0, 0), 1);
}

static void
test_backoff_resets_on_success(void **state)
{
	struct resume r;

	(void)state;
	resume_init(&r, NULL);
	assert_int_equal(resume_next_delay_ms(&r, 100, 1000), 100);
	assert_int_equal(resume_next_delay_ms(&r, 100, 1000), 200);
	assert_int_equal(resume_next_delay_ms(&r, 100, 1000), 400);
	assert_int_equal(resume_next_delay_ms(&r, 100, 1000), 800);
	assert_int_equal(resume_next_delay_ms(&r, 100, 1000), 1000);
	assert_int_equal(resume_next_delay_ms(&r, 100, 1000), 1000);
	resume_on_healthy(&r);
	assert_int_equal(resume_next_delay_ms(&r, 100, 1000), 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_connect_without_cursor),
		cmocka_unit_test(test_browser_cursor_kept_over_snapshot),
		cmocka_unit_test(test_expired_resyncs),
		cmocka_unit_test(test_backoff_schedule),
		cmocka_unit_test(test_backoff_resets_on_success),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
