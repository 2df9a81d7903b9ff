/*
 * Unit tests of lib/listenspec: the listen syntax wrg.fcgi's -s and the
 * registry's wsproxy.listen / metrics_listen share, and stale-socket
 * removal (a socket goes, any other file stays).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listenspec.h"

static void
assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void
test_parse(void **state)
{
	static char unix_ok[128], unix_long[128];
	static const struct {
		const char *s;
		enum listenspec_err want;
		const char *host;	/* TCP */
		int port;
		const char *unix_path;	/* unix */
	} rows[] = {
		{ "127.0.0.1:8792", LISTENSPEC_OK, "127.0.0.1", 8792, NULL },
		{ "0.0.0.0:65535", LISTENSPEC_OK, "0.0.0.0", 65535, NULL },
		{ "localhost:1", LISTENSPEC_OK, "localhost", 1, NULL },
		{ "[::1]:8792", LISTENSPEC_OK, "::1", 8792, NULL },
		{ "[2001:db8::7]:9000", LISTENSPEC_OK, "2001:db8::7", 9000,
		  NULL },
		{ "::1:8792", LISTENSPEC_OK, "::1", 8792, NULL },
		{ "unix:/run/wrg/ws.sock", LISTENSPEC_OK, NULL, 0,
		  "/run/wrg/ws.sock" },
		{ unix_ok, LISTENSPEC_OK, NULL, 0, unix_ok + 5 },
		{ "", LISTENSPEC_ERR_SYNTAX, NULL, 0, NULL },
		{ "8792", LISTENSPEC_ERR_SYNTAX, NULL, 0, NULL },
		{ ":8792", LISTENSPEC_ERR_SYNTAX, NULL, 0, NULL },
		{ "127.0.0.1:", LISTENSPEC_ERR_PORT, NULL, 0, NULL },
		{ "127.0.0.1:0", LISTENSPEC_ERR_PORT, NULL, 0, NULL },
		{ "127.0.0.1:65536", LISTENSPEC_ERR_PORT, NULL, 0, NULL },
		{ "127.0.0.1:-1", LISTENSPEC_ERR_PORT, NULL, 0, NULL },
		{ "127.0.0.1:+80", LISTENSPEC_ERR_PORT, NULL, 0, NULL },
		{ "127.0.0.1: 80", LISTENSPEC_ERR_PORT, NULL, 0, NULL },
		{ "127.0.0.1:80x", LISTENSPEC_ERR_PORT, NULL, 0, NULL },
		{ "127.0.0.1:99999999999999999999", LISTENSPEC_ERR_PORT, NULL,
		  0, NULL },
		{ "example.com:80", LISTENSPEC_ERR_HOST, NULL, 0, NULL },
		{ "[::1:80", LISTENSPEC_ERR_HOST, NULL, 0, NULL },
		{ "[]:80", LISTENSPEC_ERR_HOST, NULL, 0, NULL },
		{ "127.0.0.1.5:80", LISTENSPEC_ERR_HOST, NULL, 0, NULL },
		{ "unix:rel.sock", LISTENSPEC_ERR_UNIX_PATH, NULL, 0, NULL },
		{ "unix:", LISTENSPEC_ERR_UNIX_PATH, NULL, 0, NULL },
		{ unix_long, LISTENSPEC_ERR_UNIX_PATH, NULL, 0, NULL },
	};

	(void)state;
	/* A path of 107 bytes fits sun_path with its NUL; 108 does not. */
	strcpy(unix_ok, "unix:/");
	memset(unix_ok + 6, 'a', 106);
	strcpy(unix_long, "unix:/");
	memset(unix_long + 6, 'a', 107);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct listenspec ls;
		enum listenspec_err e = listenspec_parse(rows[i].s, &ls);

		if (e != rows[i].want)
			fail_msg("%s: got %s", rows[i].s,
			    listenspec_strerror(e));
		if (e != LISTENSPEC_OK) {
			assert_null(ls.host);
			assert_null(ls.unix_path);
			continue;
		}
		assert_str_or_null(ls.host, rows[i].host);
		assert_int_equal(ls.port, rows[i].port);
		assert_str_or_null(ls.unix_path, rows[i].unix_path);
		listenspec_clear(&ls);
	}
	listenspec_clear(NULL);
}

/* The reasons are the registry's "file: key: reason" wording. */
static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(listenspec_strerror(LISTENSPEC_ERR_SYNTAX),
	    "must be HOST:PORT or unix:/path");
	assert_string_equal(listenspec_strerror(LISTENSPEC_ERR_PORT),
	    "port must be 1 to 65535");
	assert_string_equal(listenspec_strerror(LISTENSPEC_ERR_HOST),
	    "host must be a numeric address or localhost");
	assert_string_equal(listenspec_strerror(LISTENSPEC_ERR_UNIX_PATH),
	    "unix: needs an absolute path shorter than 108 bytes");
	assert_string_equal(listenspec_strerror((enum listenspec_err)99),
	    "unknown error");
}

static void
test_unlink_stale(void **state)
{
	char dir[] = "/tmp/test_listenspec.XXXXXX";
	char sock[64], file[64], link[64];
	struct sockaddr_un sa;
	struct stat st;
	int fd;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(link, sizeof(link), "%s/link", dir);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);		/* the file stays: a stale socket */
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(symlink(sock, link), 0);

	assert_false(listenspec_unlink_stale(file));
	assert_int_equal(stat(file, &st), 0);
	assert_false(listenspec_unlink_stale(link));	/* a symlink */
	assert_int_equal(lstat(link, &st), 0);
	assert_true(listenspec_unlink_stale(sock));
	assert_int_not_equal(lstat(sock, &st), 0);
	assert_false(listenspec_unlink_stale(sock));	/* gone */

	unlink(link);
	unlink(file);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_unlink_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
