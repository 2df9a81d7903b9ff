/*
 * Unit tests for src/fcgim: the metrics state file wrg.fcgi processes
 * share. Each struct fcgim here has its own open file description, so
 * two handles in this one process behave like two processes (OFD locks);
 * "killing" a process is closing its handle, which drops its lock just as
 * process exit does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fcgim.h"
#include "route.h"

static char dir[] = "/tmp/wrg-test-fcgim.XXXXXX";
static char path[256];

static struct registry *
reg_of(const char *ids)	/* "a b" -> runtimes a and b */
{
	char text[512], one[64], *err = NULL;
	const char *p = ids;
	struct registry *reg;
	int n = 0, k;

	k = snprintf(text, sizeof(text), "{\"fcgi\": {\"metrics_path\": "
	    "\"/m\"}, \"runtimes\": [");
	while (sscanf(p, "%63s%n", one, &n) == 1) {
		k += snprintf(text + k, sizeof(text) - (size_t)k, "%s{\"id\": "
		    "\"%s\", \"base_url\": \"http://127.0.0.1:1\"}",
		    p == ids ? "" : ",", one);
		p += n;
	}
	snprintf(text + k, sizeof(text) - (size_t)k, "]}");
	reg = registry_load_buffer("t.conf", text, strlen(text), &err);
	if (reg == NULL)
		fail_msg("%s", err);
	return reg;
}

static char *
render(struct fcgim *m)
{
	size_t len;
	char *s = fcgim_render(m, &len);

	assert_int_equal(len, strlen(s));
	return s;
}

/* Asserts that the rendering of m has this exact line. */
static void
has_line(struct fcgim *m, const char *line)
{
	char *s = render(m), *want;

	assert_true(asprintf(&want, "\n%s\n", line) > 0);
	if (strstr(s, want) == NULL)
		fail_msg("no line '%s' in:\n%s", line, s);
	free(want);
	free(s);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "%s/metrics", dir);
	unlink(path);
	return 0;
}

static void
test_two_processes_sum(void **state)
{
	struct registry *reg = reg_of("a b");
	struct fcgim *p1, *p2;

	(void)state;
	p1 = fcgim_open(path, reg);
	p2 = fcgim_open(path, reg);
	assert_non_null(p1);
	assert_non_null(p2);
	for (int i = 0; i < 3; i++) {
		fcgim_request_begin(p1);
		fcgim_request_end(p1, ROUTE_HEALTH, 0, 200);
	}
	for (int i = 0; i < 2; i++) {
		fcgim_request_begin(p2);
		fcgim_request_end(p2, ROUTE_HEALTH, 0, 200);
	}
	fcgim_request_begin(p2);
	fcgim_request_end(p2, ROUTE_WORKER, 2, 404);
	fcgim_request_begin(p1);	/* still in flight */
	has_line(p1, "wrg_fcgi_processes 2");
	has_line(p2, "wrg_fcgi_requests_total{route=\"health\","
	    "status=\"200\"} 5");
	has_line(p1, "wrg_fcgi_requests_total{route=\"worker\","
	    "status=\"404\",runtime=\"b\"} 1");
	has_line(p2, "wrg_fcgi_requests_in_flight 1");
	fcgim_free(p1);
	fcgim_free(p2);
	registry_free(reg);
}

static void
test_dead_owner_reused(void **state)
{
	struct registry *reg = reg_of("a");
	struct fcgim *p1, *p2, *p3;

	(void)state;
	p1 = fcgim_open(path, reg);
	p2 = fcgim_open(path, reg);
	for (int i = 0; i < 4; i++) {
		fcgim_request_begin(p1);
		fcgim_request_end(p1, ROUTE_RUNTIME, 1, 200);
	}
	fcgim_request_begin(p1);	/* dies with a request in flight */
	fcgim_free(p1);
	/* Its counters stay; its gauge no longer counts. */
	has_line(p2, "wrg_fcgi_processes 1");
	has_line(p2, "wrg_fcgi_requests_in_flight 0");
	has_line(p2, "wrg_fcgi_requests_total{route=\"runtime\","
	    "status=\"200\",runtime=\"a\"} 4");
	/* The next process takes the free slot and goes on from there. */
	p3 = fcgim_open(path, reg);
	assert_non_null(p3);
	fcgim_request_begin(p3);
	fcgim_request_end(p3, ROUTE_RUNTIME, 1, 200);
	has_line(p2, "wrg_fcgi_processes 2");
	has_line(p2, "wrg_fcgi_requests_in_flight 0");
	has_line(p2, "wrg_fcgi_requests_total{route=\"runtime\","
	    "status=\"200\",runtime=\"a\"} 5");
	fcgim_free(p3);
	fcgim_free(p2);
	registry_free(reg);
}

static void
test_all_slots_taken(void **state)
{
	struct registry *reg = reg_of("a");
	struct fcgim *m[FCGIM_SLOTS];

	(void)state;
	for (int i = 0; i < FCGIM_SLOTS; i++) {
		m[i] = fcgim_open(path, reg);
		assert_non_null(m[i]);
	}
	assert_null(fcgim_open(path, reg));
	fcgim_free(m[7]);
	m[7] = fcgim_open(path, reg);
	assert_non_null(m[7]);
	for (int i = 0; i < FCGIM_SLOTS; i++)
		fcgim_free(m[i]);
	registry_free(reg);
}

/* Writes text at the start of the state file (fopen mode "w": a new
 * file, "r+": over the old one's first bytes), then opens it, which must
 * work (a file of another layout is replaced). */
static struct fcgim *
open_after_writing(const char *mode, const char *text, struct registry *reg)
{
	FILE *f = fopen(path, mode);
	struct fcgim *m;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	m = fcgim_open(path, reg);
	assert_non_null(m);
	return m;
}

static void
test_layout_mismatch_replaced(void **state)
{
	struct registry *reg = reg_of("a");
	struct fcgim *m;
	struct stat st;

	(void)state;
	/* Another version's file: other size and magic. */
	m = open_after_writing("w", "not a wrg metrics file of this layout",
	    reg);
	fcgim_request_begin(m);
	fcgim_request_end(m, ROUTE_HEALTH, 0, 200);
	has_line(m, "wrg_fcgi_requests_total{route=\"health\",status=\"200\"} 1");
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 4096);
	fcgim_free(m);
	/* Same size, another magic: replaced as well. */
	m = open_after_writing("r+", "XXXXXXXX", reg);
	has_line(m, "wrg_fcgi_processes 1");
	{
		char *s = render(m);

		assert_null(strstr(s, "route=\"health\""));
		free(s);
	}
	fcgim_free(m);
	registry_free(reg);
}

static void
test_upstream_and_runtime_table(void **state)
{
	struct registry *r1 = reg_of("a b"), *r2 = reg_of("c b");
	struct fcgim *m1, *m2;

	(void)state;
	m1 = fcgim_open(path, r1);
	fcgim_upstream_done(m1, 1, 3000);	/* b: 3 ms */
	fcgim_upstream_done(m1, 1, 2000000);	/* b: 2 s */
	fcgim_upstream_error(m1, 1, APIERR_RUNTIME_UNREACHABLE);
	fcgim_upstream_error(m1, 1, APIERR_OK);	/* ignored */
	fcgim_upstream_done(m1, 9, 1);		/* no such runtime */
	fcgim_free(m1);
	/* A restart with another config: b keeps its entry, c is added. */
	m2 = fcgim_open(path, r2);
	fcgim_upstream_done(m2, 1, 20000000);	/* b: 20 s */
	fcgim_upstream_error(m2, 0, APIERR_RUNTIME_TIMEOUT);	/* c */
	has_line(m2, "wrg_fcgi_upstream_duration_seconds_bucket{"
	    "runtime=\"b\",le=\"0.005\"} 1");
	has_line(m2, "wrg_fcgi_upstream_duration_seconds_bucket{"
	    "runtime=\"b\",le=\"2.5\"} 2");
	has_line(m2, "wrg_fcgi_upstream_duration_seconds_bucket{"
	    "runtime=\"b\",le=\"+Inf\"} 3");
	has_line(m2, "wrg_fcgi_upstream_duration_seconds_sum{"
	    "runtime=\"b\"} 22.003");
	has_line(m2, "wrg_fcgi_upstream_duration_seconds_count{"
	    "runtime=\"a\"} 0");
	has_line(m2, "wrg_fcgi_upstream_errors_total{runtime=\"b\","
	    "type=\"runtime_unreachable\"} 1");
	has_line(m2, "wrg_fcgi_upstream_errors_total{runtime=\"c\","
	    "type=\"runtime_timeout\"} 1");
	has_line(m2, "wrg_fcgi_upstream_errors_total{runtime=\"a\","
	    "type=\"runtime_timeout\"} 0");
	fcgim_free(m2);
	registry_free(r1);
	registry_free(r2);
}

static void
test_serve(void **state)
{
	struct registry *reg = reg_of("a");
	struct fcgim *m = fcgim_open(path, reg);
	char *head = NULL, *body = NULL;
	size_t len = 0;

	(void)state;
	assert_false(fcgim_serve(m, reg, "GET", "/api/health", &head, &body,
	    &len));
	assert_false(fcgim_serve(m, reg, "GET", "/m/x", &head, &body, &len));
	assert_false(fcgim_serve(NULL, reg, "GET", "/m", &head, &body, &len));
	assert_null(head);
	assert_true(fcgim_serve(m, reg, "GET", "/m?x=1", &head, &body, &len));
	assert_non_null(strstr(head, "Status: 200 OK\r\n"));
	assert_non_null(strstr(head, "Content-Type: text/plain; "
	    "version=0.0.4"));
	assert_non_null(strstr(body, "# TYPE wrg_fcgi_requests_total "
	    "counter\n"));
	assert_int_equal(len, strlen(body));
	free(head);
	free(body);
	assert_true(fcgim_serve(m, reg, "HEAD", "/m", &head, &body, &len));
	assert_null(body);
	assert_int_equal(len, 0);
	free(head);
	assert_true(fcgim_serve(m, reg, "POST", "/m", &head, &body, &len));
	assert_non_null(strstr(head, "Status: 405"));
	assert_non_null(strstr(head, "Allow: GET, HEAD\r\n"));
	free(head);
	free(body);
	fcgim_free(m);
	fcgim_free(NULL);
	fcgim_request_begin(NULL);
	fcgim_request_end(NULL, ROUTE_HEALTH, 0, 200);
	fcgim_upstream_done(NULL, 0, 1);
	fcgim_upstream_error(NULL, 0, APIERR_RUNTIME_ERROR);
	registry_free(reg);
}

static void
test_unusable_path(void **state)
{
	struct registry *reg = reg_of("a");

	(void)state;
	assert_null(fcgim_open("/nonexistent-dir-wrg/metrics", reg));
	registry_free(reg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_two_processes_sum, setup),
		cmocka_unit_test_setup(test_dead_owner_reused, setup),
		cmocka_unit_test_setup(test_all_slots_taken, setup),
		cmocka_unit_test_setup(test_layout_mismatch_replaced, setup),
		cmocka_unit_test_setup(test_upstream_and_runtime_table, setup),
		cmocka_unit_test_setup(test_serve, setup),
		cmocka_unit_test_setup(test_unusable_path, setup),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(path, sizeof(path), "%s/metrics", dir);
	unlink(path);
	rmdir(dir);
	return rc;
}
