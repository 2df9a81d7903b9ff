/*
 * Unit tests for wsproxy/resume.c: which cursor a reconnect uses, which
 * snapshots reach the browser, and the backoff schedule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "resume.h"

/* Feeds one upstream event to r and checks the verdict and the cursor a
 * reconnect would use afterwards (pos NULL: none). A mismatch names the
 * event. */
static void
feed(struct resume *r, const char *cursor, bool snapshot,
    enum resume_verdict want, const char *pos)
{
	enum resume_verdict v = resume_on_event(r, cursor, snapshot);
	const char *got = resume_connect_cursor(r);

	if (v != want)
		fail_msg("%s%s: verdict %s, want %s", cursor,
		    snapshot ? " (snapshot)" : "",
		    v == RESUME_DROP ? "drop" : "forward",
		    want == RESUME_DROP ? "drop" : "forward");
	if (pos == NULL ? got != NULL : got == NULL || strcmp(got, pos) != 0)
		fail_msg("%s%s: reconnect from %s, want %s", cursor,
		    snapshot ? " (snapshot)" : "", got ? got : "(none)",
		    pos ? pos : "(none)");
}

static void
test_first_connect_without_cursor(void **state)
{
	struct resume r;

	(void)state;
	resume_init(&r, NULL);
	assert_null(resume_connect_cursor(&r));
	/* The first snapshot is forwarded and becomes the position. */
	feed(&r, "wo_5", true, RESUME_FORWARD, "wo_5");
	/* Reconnect before any event: from the snapshot, snapshot dropped. */
	feed(&r, "wo_9", true, RESUME_DROP, "wo_5");
	feed(&r, "wo_6", false, RESUME_FORWARD, "wo_6");
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
	feed(&r, "wo_9", true, RESUME_FORWARD, "wo_3");
	feed(&r, "wo_4", false, RESUME_FORWARD, "wo_4");
	/* Later reconnects: the repeated snapshot is dropped. */
	feed(&r, "wo_10", true, RESUME_DROP, "wo_4");
	feed(&r, "wo_5", false, RESUME_FORWARD, "wo_5");
}

static void
test_expired_resyncs(void **state)
{
	struct resume r;

	(void)state;
	resume_init(&r, "wo_1");
	feed(&r, "wo_99", true, RESUME_FORWARD, "wo_1");
	resume_on_expired(&r);
	assert_null(resume_connect_cursor(&r));
	/* The fresh snapshot is forwarded and is the new position. */
	feed(&r, "wo_99", true, RESUME_FORWARD, "wo_99");
	feed(&r, "wo_100", true, RESUME_DROP, "wo_99");
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
