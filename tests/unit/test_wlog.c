/*
 * Unit tests for lib/wlog: text and JSON lines, as a log shipper reads
 * them from stderr (captured here through a temporary file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "wlog.h"

/* Runs fn with stderr sent to a temporary file; returns what it wrote
 * (malloc'd, NUL-ended). */
static char *
capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *buf;
	long len;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	len = lseek(fileno(tmp), 0, SEEK_END);
	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fileno(tmp), buf, (size_t)len, 0), len);
	fclose(tmp);
	return buf;
}

/* One JSON object per line: parses line i (0-based) of text. */
static struct json_object *
json_line(const char *text, int i)
{
	const char *p = text, *nl;
	struct json_object *o;
	char *line;

	while (i-- > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	nl = strchr(p, '\n');
	assert_non_null(nl);
	line = strndup(p, (size_t)(nl - p));
	assert_non_null(line);
	o = json_tokener_parse(line);
	free(line);
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

static const char *
field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static void
log_plain(void)
{
	wlog(WLOG_ERR, "Ab12", "build-farm", "connect failed: %s", "refused");
	wlog(WLOG_INFO, NULL, NULL, "started");
	wlog(WLOG_DEBUG, NULL, NULL, "not printed at info");
}

static void
test_text(void **state)
{
	char *out;

	(void)state;
	wlog_init("wrg.test", WLOG_INFO);
	out = capture(log_plain);
	assert_non_null(strstr(out,
	    "]: error req=Ab12 rt=build-farm: connect failed: refused\n"));
	assert_non_null(strstr(out, "]: info: started\n"));
	assert_null(strstr(out, "not printed"));
	free(out);
}

static void
test_json_fields(void **state)
{
	struct json_object *o, *pid;
	char *out;
	const char *t;

	(void)state;
	wlog_init("wrg.test", WLOG_INFO);
	wlog_set_format(WLOG_JSON);
	out = capture(log_plain);
	o = json_line(out, 0);
	assert_string_equal(field(o, "level"), "error");
	assert_string_equal(field(o, "program"), "wrg.test");
	assert_string_equal(field(o, "request_id"), "Ab12");
	assert_string_equal(field(o, "runtime_id"), "build-farm");
	assert_string_equal(field(o, "message"), "connect failed: refused");
	assert_true(json_object_object_get_ex(o, "pid", &pid));
	assert_int_equal(json_object_get_int64(pid), getpid());
	t = field(o, "time");	/* 2026-11-30T14:50:01.123Z */
	assert_non_null(t);
	assert_int_equal(strlen(t), 24);
	assert_int_equal(t[10], 'T');
	assert_int_equal(t[23], 'Z');
	json_object_put(o);
	o = json_line(out, 1);
	assert_string_equal(field(o, "message"), "started");
	assert_null(field(o, "request_id"));
	assert_null(field(o, "runtime_id"));
	json_object_put(o);
	assert_null(strstr(out, "not printed"));
	/* exactly two lines */
	assert_null(strchr(strchr(strchr(out, '\n') + 1, '\n') + 1, '\n'));
	free(out);
	wlog_init("wrg.test", WLOG_INFO);	/* back to text */
}

static void
log_hostile(void)
{
	/* A forged second line, invalid UTF-8, quotes, a backslash, C1 and
	 * DEL controls, and a valid multi-byte character. */
	wlog(WLOG_WARN, "r\"1", "rt\n2", "a\n{\"level\":\"error\"}\xff\xc3"
	    "\"q\\ \xc2\x85\x7f caf\xc3\xa9");
}

static void
test_json_hostile(void **state)
{
	struct json_object *o;
	char *out;

	(void)state;
	wlog_init("wrg.test", WLOG_INFO);
	wlog_set_format(WLOG_JSON);
	out = capture(log_hostile);
	/* one line, and it parses */
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	o = json_line(out, 0);
	assert_string_equal(field(o, "level"), "warn");
	assert_string_equal(field(o, "request_id"), "r\"1");
	assert_string_equal(field(o, "runtime_id"), "rt\\x0a2");
	assert_string_equal(field(o, "message"),
	    "a\\x0a{\"level\":\"error\"}\\xff\\xc3\"q\\ \\xc2\\x85\\x7f "
	    "caf\xc3\xa9");
	json_object_put(o);
	free(out);
	wlog_init("wrg.test", WLOG_INFO);
}

static void
log_long(void)
{
	char big[3000];

	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	wlog(WLOG_INFO, NULL, NULL, "%s", big);
}

static void
test_json_long(void **state)
{
	struct json_object *o;
	char *out;

	(void)state;
	wlog_init("wrg.test", WLOG_INFO);
	wlog_set_format(WLOG_JSON);
	out = capture(log_long);
	o = json_line(out, 0);	/* cut to the message buffer, still JSON */
	assert_int_equal(strlen(field(o, "message")), 2047);
	json_object_put(o);
	free(out);
	wlog_init("wrg.test", WLOG_INFO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json_fields),
		cmocka_unit_test(test_json_hostile),
		cmocka_unit_test(test_json_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
