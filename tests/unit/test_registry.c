/*
 * Unit tests for lib/registry: every key, every default, every error of
 * the registry config, and the secrecy of tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "registry.h"
#include "wlog.h"

static char tmpdir[] = "/tmp/wrg-test-registry.XXXXXX";

static struct registry *
load(const char *text, char **err)
{
	return registry_load_buffer("t.conf", text, strlen(text), err);
}

/* Loads text and expects failure with exactly this message. */
static void
expect_error(const char *text, const char *msg)
{
	char *err = NULL;
	struct registry *reg = load(text, &err);

	if (reg != NULL)
		fail_msg("accepted: %s", text);
	assert_non_null(err);
	if (strcmp(err, msg) != 0)
		fail_msg("for %s\n got: %s\nwant: %s", text, err, msg);
	free(err);
}

static char *
write_file(const char *name, const char *content, mode_t mode)
{
	char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", tmpdir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

/* The numeric wsproxy settings: connections, send queue, ping interval,
 * reconnect back-off bounds. */
static void
assert_wsproxy_limits(const struct registry *reg, long max_connections,
    long send_queue_max_bytes, long ping_interval_s,
    long reconnect_initial_ms, long reconnect_max_ms)
{
	assert_int_equal(reg->wsproxy.max_connections, max_connections);
	assert_int_equal(reg->wsproxy.send_queue_max_bytes,
	    send_queue_max_bytes);
	assert_int_equal(reg->wsproxy.ping_interval_s, ping_interval_s);
	assert_int_equal(reg->wsproxy.reconnect_initial_ms,
	    reconnect_initial_ms);
	assert_int_equal(reg->wsproxy.reconnect_max_ms, reconnect_max_ms);
}

/* A runtime reached over TCP: its address, base path (no Unix socket)
 * and timeouts. */
static void
assert_rt_tcp(const struct registry_runtime *rt,
    enum registry_transport transport, const char *host, long port,
    const char *base_path, long connect_ms, long request_ms)
{
	assert_int_equal(rt->transport, transport);
	assert_string_equal(rt->host, host);
	assert_int_equal(rt->port, port);
	assert_string_equal(rt->base_path, base_path);
	assert_null(rt->unix_path);
	assert_int_equal(rt->connect_timeout_ms, connect_ms);
	assert_int_equal(rt->request_timeout_ms, request_ms);
}

static void
test_defaults(void **state)
{
	char *err = NULL;
	struct registry *reg;
	const struct registry_runtime *rt;

	(void)state;
	reg = load("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"http://127.0.0.1:8791\"}]}", &err);
	assert_non_null(reg);
	assert_null(err);
	assert_string_equal(reg->path, "t.conf");
	assert_string_equal(reg->api_prefix, "/api");
	assert_int_equal(reg->allowed_origin_count, 0);
	assert_int_equal(reg->max_request_body_bytes, 1048576);
	assert_int_equal(reg->max_upstream_body_bytes, 8388608);
	assert_int_equal(reg->fcgi_threads, 0);
	assert_false(reg->fcgi_trust_request_id);
	assert_null(reg->fcgi_metrics_path);
	assert_string_equal(reg->fcgi_metrics_state, REGISTRY_METRICS_STATE);
	assert_null(reg->wsproxy.metrics_listen);
	assert_false(reg->log_json);
	assert_string_equal(reg->wsproxy.listen, "127.0.0.1:8792");
	assert_string_equal(reg->wsproxy.listen_host, "127.0.0.1");
	assert_int_equal(reg->wsproxy.listen_port, 8792);
	assert_null(reg->wsproxy.listen_unix);
	assert_wsproxy_limits(reg, 10000, 1048576, 30, 250, 10000);
	assert_int_equal(reg->runtime_count, 1);
	rt = registry_find(reg, "a");
	assert_non_null(rt);
	assert_null(registry_find(reg, "b"));
	assert_null(rt->display_name);
	assert_rt_tcp(rt, REGISTRY_TRANSPORT_HTTP, "127.0.0.1", 8791, "", 2000,
	    10000);
	assert_true(rt->tls.verify);
	assert_null(rt->tls.ca_file);
	assert_null(registry_token(reg, rt));
	registry_free(reg);
	registry_free(NULL);
	/* An empty object is a valid (if useless) config. */
	reg = load("{}", &err);
	assert_non_null(reg);
	assert_int_equal(reg->runtime_count, 0);
	registry_free(reg);
}

static void
test_every_key(void **state)
{
	char *err = NULL, *text = NULL, *tok, *ca;
	struct registry *reg;
	const struct registry_runtime *rt;

	(void)state;
	tok = write_file("tok", "s3cret-file-token\n", 0600);
	ca = write_file("ca.pem", "not really a cert\n", 0644);
	setenv("WRG_TEST_TOKEN", "env-token-1", 1);
	assert_true(asprintf(&text,
	    "// full config\n"
	    "{\n"
	    "  \"api_prefix\": \"/gw/api\",  /* custom */\n"
	    "  \"log_format\": \"json\",\n"
	    "  \"allowed_origins\": [\"https://Panel.Example\", "
	    "\"http://127.0.0.1:8080\"],\n"
	    "  \"limits\": {\"max_request_body_bytes\": 4096,\n"
	    "             \"max_upstream_body_bytes\": 65536},\n"
	    "  \"fcgi\": {\"threads\": 8, \"trust_request_id\": true,\n"
	    "     \"metrics_path\": \"/wrg-metrics\",\n"
	    "     \"metrics_state\": \"/tmp/m.state\"},\n"
	    "  \"wsproxy\": {\"listen\": \"unix:/run/wrg/ws.sock\",\n"
	    "     \"metrics_listen\": \"127.0.0.1:9273\",\n"
	    "     \"max_connections\": 5, \"send_queue_max_bytes\": 8192,\n"
	    "     \"ping_interval_s\": 0, \"reconnect_initial_ms\": 100,\n"
	    "     \"reconnect_max_ms\": 100},\n"
	    "  \"runtimes\": [\n"
	    "    {\"id\": \"build-farm\", \"display_name\": \"Build farm\",\n"
	    "     \"base_url\": \"https://[::1]:8443/rt/\",\n"
	    "     \"token_file\": \"%s\",\n"
	    "     \"connect_timeout_ms\": 100, \"request_timeout_ms\": 200,\n"
	    "     \"tls\": {\"ca_file\": \"%s\", \"verify\": false,\n"
	    "             \"client_cert\": \"%s\", \"client_key\": \"%s\"}},\n"
	    "    {\"id\": \"local\", \"base_url\": \"unix:/run/rt.sock\",\n"
	    "     \"token\": \"inline-token\", \"display_name\": null},\n"
	    "    {\"id\": \"env\", \"base_url\": \"http://10.0.0.7\",\n"
	    "     \"token_env\": \"WRG_TEST_TOKEN\"}\n"
	    "  ]\n"
	    "}\n", tok, ca, ca, ca) > 0);
	reg = load(text, &err);
	if (reg == NULL)
		fail_msg("%s", err);
	assert_string_equal(reg->api_prefix, "/gw/api");
	assert_int_equal(reg->allowed_origin_count, 2);
	assert_string_equal(reg->allowed_origins[0], "https://panel.example");
	assert_string_equal(reg->allowed_origins[1], "http://127.0.0.1:8080");
	assert_int_equal(reg->max_request_body_bytes, 4096);
	assert_int_equal(reg->max_upstream_body_bytes, 65536);
	assert_int_equal(reg->fcgi_threads, 8);
	assert_true(reg->fcgi_trust_request_id);
	assert_string_equal(reg->fcgi_metrics_path, "/wrg-metrics");
	assert_string_equal(reg->fcgi_metrics_state, "/tmp/m.state");
	assert_string_equal(reg->wsproxy.metrics_host, "127.0.0.1");
	assert_int_equal(reg->wsproxy.metrics_port, 9273);
	assert_null(reg->wsproxy.metrics_unix);
	assert_true(reg->log_json);
	assert_string_equal(reg->wsproxy.listen_unix, "/run/wrg/ws.sock");
	assert_null(reg->wsproxy.listen_host);
	assert_wsproxy_limits(reg, 5, 8192, 0, 100, 100);
	assert_int_equal(reg->runtime_count, 3);

	rt = registry_find(reg, "build-farm");
	assert_non_null(rt);
	assert_int_equal(rt->index, 0);
	assert_string_equal(rt->display_name, "Build farm");
	assert_rt_tcp(rt, REGISTRY_TRANSPORT_HTTPS, "::1", 8443, "/rt", 100,
	    200);
	assert_false(rt->tls.verify);
	assert_string_equal(rt->tls.ca_file, ca);
	assert_string_equal(rt->tls.client_cert, ca);
	assert_string_equal(rt->tls.client_key, ca);
	assert_string_equal(registry_token(reg, rt), "s3cret-file-token");

	rt = registry_find(reg, "local");
	assert_int_equal(rt->transport, REGISTRY_TRANSPORT_UNIX);
	assert_string_equal(rt->unix_path, "/run/rt.sock");
	assert_string_equal(rt->base_path, "");
	assert_null(rt->display_name);
	assert_string_equal(registry_token(reg, rt), "inline-token");
	assert_string_equal(registry_transport_name(rt->transport), "unix");

	rt = registry_find(reg, "env");
	assert_int_equal(rt->port, 80);
	assert_string_equal(registry_token(reg, rt), "env-token-1");
	registry_free(reg);
	free(text);
	free(tok);
	free(ca);
}

static void
test_https_default_port(void **state)
{
	char *err = NULL;
	struct registry *reg = load("{\"runtimes\": [{\"id\": \"a\", "
	    "\"base_url\": \"https://rt.example\"}]}", &err);

	(void)state;
	assert_non_null(reg);
	assert_int_equal(reg->runtimes[0].port, 443);
	assert_string_equal(reg->runtimes[0].host, "rt.example");
	assert_string_equal(registry_transport_name(reg->runtimes[0].transport),
	    "https");
	registry_free(reg);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("", "t.conf: line 1: unexpected end of data");
	expect_error("{\"a\":", "t.conf: line 1: unexpected end of data");
	expect_error("[]", "t.conf: the top level must be an object");
	expect_error("{} x", "t.conf: trailing data after the document");
	expect_error("{\"runtime\": []}", "t.conf: runtime: unknown key");
	expect_error("{\"api_prefix\": 1}", "t.conf: api_prefix: must be a string");
	expect_error("{\"api_prefix\": \"api\"}",
	    "t.conf: api_prefix: must start with '/'");
	expect_error("{\"api_prefix\": \"/api/\"}",
	    "t.conf: api_prefix: must be /segment[/segment...] without a "
	    "trailing or doubled '/'");
	expect_error("{\"api_prefix\": \"/a pi\"}",
	    "t.conf: api_prefix: may only contain letters, digits, '/', '.', "
	    "'_', '~', '-'");
	expect_error("{\"allowed_origins\": \"x\"}",
	    "t.conf: allowed_origins: must be an array");
	expect_error("{\"allowed_origins\": [1]}",
	    "t.conf: allowed_origins[0]: must be a string");
	expect_error("{\"allowed_origins\": [\"https://a.example/\"]}",
	    "t.conf: allowed_origins[0]: must be scheme://host[:port] with no "
	    "path");
	expect_error("{\"allowed_origins\": [\"ftp://a.example\"]}",
	    "t.conf: allowed_origins[0]: must be scheme://host[:port] with no "
	    "path");
	expect_error("{\"limits\": {\"max_body\": 1}}",
	    "t.conf: limits.max_body: unknown key");
	expect_error("{\"limits\": {\"max_request_body_bytes\": \"1\"}}",
	    "t.conf: limits.max_request_body_bytes: must be an integer");
	expect_error("{\"limits\": {\"max_request_body_bytes\": 1.5}}",
	    "t.conf: limits.max_request_body_bytes: must be an integer");
	expect_error("{\"limits\": {\"max_request_body_bytes\": 0}}",
	    "t.conf: limits.max_request_body_bytes: must be between 64 and "
	    "1073741824");
	expect_error("{\"limits\": {\"max_upstream_body_bytes\": "
	    "99999999999999999999}}",
	    "t.conf: NaN, Infinity or an integer beyond 64 bits");
	expect_error("{\"limits\": {\"max_upstream_body_bytes\": "
	    "9999999999999}}",
	    "t.conf: limits.max_upstream_body_bytes: must be between 1024 and "
	    "1073741824");
	expect_error("{\"fcgi\": {\"threads\": 65}}",
	    "t.conf: fcgi.threads: must be between 0 and 64");
	expect_error("{\"fcgi\": {\"workers\": 2}}",
	    "t.conf: fcgi.workers: unknown key");
	expect_error("{\"log_format\": \"JSON\"}",
	    "t.conf: log_format: must be \"text\" or \"json\"");
	expect_error("{\"log_format\": true}",
	    "t.conf: log_format: must be a string");
	expect_error("{\"fcgi\": {\"metrics_path\": \"metrics\"}}",
	    "t.conf: fcgi.metrics_path: must start with '/'");
	expect_error("{\"fcgi\": {\"metrics_path\": \"/m?x\"}}",
	    "t.conf: fcgi.metrics_path: may only contain letters, digits, "
	    "'/', '.', '_', '~', '-'");
	expect_error("{\"fcgi\": {\"metrics_path\": \"/api/metrics\"}}",
	    "t.conf: fcgi.metrics_path: must be outside api_prefix (/api)");
	expect_error("{\"fcgi\": {\"metrics_path\": \"/api\"}}",
	    "t.conf: fcgi.metrics_path: must be outside api_prefix (/api)");
	expect_error("{\"fcgi\": {\"metrics_state\": \"run/m\"}}",
	    "t.conf: fcgi.metrics_state: must be an absolute path");
	expect_error("{\"wsproxy\": {\"metrics_listen\": \"9273\"}}",
	    "t.conf: wsproxy.metrics_listen: must be HOST:PORT or unix:/path");
	expect_error("{\"wsproxy\": {\"metrics_listen\": "
	    "\"example.org:9273\"}}",
	    "t.conf: wsproxy.metrics_listen: host must be a numeric address "
	    "or localhost");
	expect_error("{\"wsproxy\": {\"metrics_listen\": "
	    "\"127.0.0.1:8792\"}}",
	    "t.conf: wsproxy.metrics_listen: must differ from wsproxy.listen");
	expect_error("{\"fcgi\": {\"trust_request_id\": 1}}",
	    "t.conf: fcgi.trust_request_id: must be a boolean");
	expect_error("{\"fcgi\": {\"trust_request_id\": \"yes\"}}",
	    "t.conf: fcgi.trust_request_id: must be a boolean");
	expect_error("{\"wsproxy\": {\"listen\": \"8792\"}}",
	    "t.conf: wsproxy.listen: must be HOST:PORT or unix:/path");
	expect_error("{\"wsproxy\": {\"listen\": \"127.0.0.1:0\"}}",
	    "t.conf: wsproxy.listen: port must be 1 to 65535");
	expect_error("{\"wsproxy\": {\"listen\": \"example.com:80\"}}",
	    "t.conf: wsproxy.listen: host must be a numeric address or "
	    "localhost");
	expect_error("{\"wsproxy\": {\"listen\": \"unix:rel.sock\"}}",
	    "t.conf: wsproxy.listen: unix: needs an absolute path shorter than "
	    "108 bytes");
	expect_error("{\"wsproxy\": {\"max_connections\": -1}}",
	    "t.conf: wsproxy.max_connections: must be between 1 and 1000000");
	expect_error("{\"wsproxy\": {\"send_queue_max_bytes\": 10}}",
	    "t.conf: wsproxy.send_queue_max_bytes: must be between 4096 and "
	    "1073741824");
	expect_error("{\"wsproxy\": {\"ping_interval_s\": 3601}}",
	    "t.conf: wsproxy.ping_interval_s: must be between 0 and 3600");
	expect_error("{\"wsproxy\": {\"reconnect_initial_ms\": 500, "
	    "\"reconnect_max_ms\": 100}}",
	    "t.conf: wsproxy.reconnect_max_ms: must be at least "
	    "reconnect_initial_ms (500)");
	expect_error("{\"wsproxy\": {\"reconnect_initial_ms\": 0}}",
	    "t.conf: wsproxy.reconnect_initial_ms: must be between 1 and "
	    "600000");
	expect_error("{\"wsproxy\": {\"reconnect_max_ms\": 3600001}}",
	    "t.conf: wsproxy.reconnect_max_ms: must be between 1 and 3600000");
	expect_error("{\"wsproxy\": {\"bind\": 1}}",
	    "t.conf: wsproxy.bind: unknown key");
	expect_error("{\"runtimes\": {}}", "t.conf: runtimes: must be an array");
}

static void
test_runtime_errors(void **state)
{
	(void)state;
	expect_error("{\"runtimes\": [1]}", "t.conf: runtimes[0]: must be an "
	    "object");
	expect_error("{\"runtimes\": [{\"base_url\": \"http://a\"}]}",
	    "t.conf: runtimes[0].id: is required");
	expect_error("{\"runtimes\": [{\"id\": \"a b\", \"base_url\": "
	    "\"http://a\"}]}",
	    "t.conf: runtimes[0].id: must be 1 to 64 of [A-Za-z0-9._-]");
	expect_error("{\"runtimes\": [{\"id\": \"..\", \"base_url\": "
	    "\"http://a\"}]}",
	    "t.conf: runtimes[0].id: must be 1 to 64 of [A-Za-z0-9._-]");
	expect_error("{\"runtimes\": [{\"id\": \"\", \"base_url\": "
	    "\"http://a\"}]}",
	    "t.conf: runtimes[0].id: must be 1 to 64 bytes");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\"},"
	    "{\"id\": \"b\", \"base_url\": \"http://b\"},"
	    "{\"id\": \"a\", \"base_url\": \"http://c\"}]}",
	    "t.conf: runtimes[2].id: duplicate id 'a' (also runtimes[0])");
	expect_error("{\"runtimes\": [{\"id\": \"a\"}]}",
	    "t.conf: runtimes[0].base_url: is required");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"a:b:c\"}]}",
	    "t.conf: runtimes[0].base_url: must be http://HOST[:PORT][/path], "
	    "https://... or unix:/path.sock");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"ftp://a\"}]}",
	    "t.conf: runtimes[0].base_url: scheme must be http, https or unix");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"http://u:p@a\"}]}",
	    "t.conf: runtimes[0].base_url: must not contain credentials, a "
	    "query or a fragment (use token_file for auth)");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"http://a/?x=1\"}]}",
	    "t.conf: runtimes[0].base_url: must not contain credentials, a "
	    "query or a fragment (use token_file for auth)");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"unix:rt.sock\"}]}",
	    "t.conf: runtimes[0].base_url: unix: needs an absolute socket path "
	    "shorter than 108 bytes");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"timeout\": 1}]}", "t.conf: runtimes[0].timeout: unknown key");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"connect_timeout_ms\": 0}]}",
	    "t.conf: runtimes[0].connect_timeout_ms: must be between 1 and "
	    "600000");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"request_timeout_ms\": true}]}",
	    "t.conf: runtimes[0].request_timeout_ms: must be an integer");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"display_name\": 5}]}",
	    "t.conf: runtimes[0].display_name: must be a string");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"token\": \"x\", \"token_env\": \"HOME\"}]}",
	    "t.conf: runtimes[0]: give only one of token, token_file, "
	    "token_env");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"token\": \"has space\"}]}",
	    "t.conf: runtimes[0].token: must be printable characters without "
	    "spaces");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"token_env\": \"WRG_TEST_UNSET_VAR\"}]}",
	    "t.conf: runtimes[0].token_env: environment variable "
	    "WRG_TEST_UNSET_VAR is unset, empty or not a valid token");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"token_file\": \"/nonexistent/tok\"}]}",
	    "t.conf: runtimes[0].token_file: cannot read '/nonexistent/tok': "
	    "No such file or directory");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\","
	    " \"tls\": {}}]}",
	    "t.conf: runtimes[0].tls: only allowed with an https base_url");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"https://a\", \"tls\": {\"verify\": \"no\"}}]}",
	    "t.conf: runtimes[0].tls.verify: must be a boolean");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"https://a\", \"tls\": {\"pin\": 1}}]}",
	    "t.conf: runtimes[0].tls.pin: unknown key");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"https://a\", \"tls\": {\"ca_file\": \"/nonexistent/ca\"}}]}",
	    "t.conf: runtimes[0].tls.ca_file: cannot read '/nonexistent/ca': "
	    "No such file or directory");
	expect_error("{\"runtimes\": [{\"id\": \"a\", \"base_url\": "
	    "\"https://a\", \"tls\": {\"client_key\": \"/etc/hostname\"}}]}",
	    "t.conf: runtimes[0].tls.client_key: needs client_cert");
}

static void
test_token_files(void **state)
{
	char *err = NULL, *text = NULL, *empty, *spaced, *open_perm, *log;
	struct registry *reg;
	int saved, fd;
	char buf[4096] = "";
	FILE *f;

	(void)state;
	empty = write_file("empty", "\n\n", 0600);
	spaced = write_file("spaced", "two words\n", 0600);
	open_perm = write_file("open", "tok-open\n", 0644);
	log = write_file("log", "", 0600);

	assert_true(asprintf(&text, "{\"runtimes\": [{\"id\": \"a\", "
	    "\"base_url\": \"http://a\", \"token_file\": \"%s\"}]}", empty) > 0);
	reg = load(text, &err);
	assert_null(reg);
	assert_non_null(strstr(err, "runtimes[0].token_file: "));
	assert_non_null(strstr(err, "must hold one token"));
	free(err);
	free(text);

	assert_true(asprintf(&text, "{\"runtimes\": [{\"id\": \"a\", "
	    "\"base_url\": \"http://a\", \"token_file\": \"%s\"}]}", spaced) > 0);
	reg = load(text, &err);
	assert_null(reg);
	free(err);
	free(text);

	/* A group/other-readable token file loads, with a warning that
	 * names the file but never the token. */
	assert_true(asprintf(&text, "{\"runtimes\": [{\"id\": \"a\", "
	    "\"base_url\": \"http://a\", \"token_file\": \"%s\"}]}",
	    open_perm) > 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(log, O_WRONLY | O_TRUNC);
	dup2(fd, STDERR_FILENO);
	close(fd);
	reg = load(text, &err);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_non_null(reg);
	assert_string_equal(registry_token(reg, &reg->runtimes[0]), "tok-open");
	f = fopen(log, "r");
	assert_non_null(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "readable by group or others"));
	assert_non_null(strstr(buf, open_perm));
	assert_null(strstr(buf, "tok-open"));
	registry_free(reg);
	free(text);
	free(empty);
	free(spaced);
	free(open_perm);
	free(log);
}

/* --check-config output: every setting, no token anywhere. */
static void
test_print_redacts(void **state)
{
	/* What the printed config must hold (tokens are never in it). */
	static const char *const printed[] = {
		"\"WRG_TEST_TOKEN2\"", "redacted", "\"reconnect_max_ms\": 10000",
		"\"trust_request_id\": false", "\"metrics_path\": null",
		"\"metrics_state\": \"/run/wrg-fcgi/metrics\"",
		"\"metrics_listen\": null", "\"log_format\": \"text\"",
		"\"base_url\": \"unix:/x.sock\"",
	};
	size_t i;
	char *err = NULL, *out = NULL;
	size_t outlen = 0;
	struct registry *reg;
	FILE *f;

	(void)state;
	setenv("WRG_TEST_TOKEN2", "env-secret-2", 1);
	reg = load("{\"runtimes\": [{\"id\": \"a\", \"base_url\": \"http://a\", "
	    "\"token\": \"inline-secret-1\"}, {\"id\": \"b\", \"base_url\": "
	    "\"unix:/x.sock\", \"token_env\": \"WRG_TEST_TOKEN2\"}]}", &err);
	assert_non_null(reg);
	f = open_memstream(&out, &outlen);
	registry_print(reg, f);
	fclose(f);
	assert_null(strstr(out, "inline-secret-1"));
	assert_null(strstr(out, "env-secret-2"));
	for (i = 0; i < sizeof(printed) / sizeof(printed[0]); i++)
		if (strstr(out, printed[i]) == NULL)
			fail_msg("--check-config output lacks %s", printed[i]);
	free(out);
	registry_free(reg);
}

static void
test_config_path(void **state)
{
	(void)state;
	unsetenv("WRG_CONFIG");
	assert_string_equal(registry_config_path("/x.conf"), "/x.conf");
	assert_string_equal(registry_config_path(NULL),
	    WRG_SYSCONFDIR "/wrg/wrg.conf");
	setenv("WRG_CONFIG", "", 1);
	assert_string_equal(registry_config_path(NULL),
	    WRG_SYSCONFDIR "/wrg/wrg.conf");
	setenv("WRG_CONFIG", "/env.conf", 1);
	assert_string_equal(registry_config_path(NULL), "/env.conf");
	assert_string_equal(registry_config_path("/x.conf"), "/x.conf");
	unsetenv("WRG_CONFIG");
}

static void
test_load_file(void **state)
{
	char *err = NULL, *path;
	struct registry *reg;

	(void)state;
	path = write_file("ok.conf", "/* c */ {\"api_prefix\": \"/x\"}\n", 0644);
	reg = registry_load_file(path, &err);
	assert_non_null(reg);
	assert_string_equal(reg->path, path);
	assert_string_equal(reg->api_prefix, "/x");
	registry_free(reg);
	free(path);
	path = write_file("bad.conf", "{\n  \"fcgi\": {\"threads\": 999}\n}\n",
	    0644);
	reg = registry_load_file(path, &err);
	assert_null(reg);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ": fcgi.threads: must be between 0 and 64"));
	free(err);
	free(path);
	reg = registry_load_file("/nonexistent/wrg.conf", &err);
	assert_null(reg);
	assert_string_equal(err, "/nonexistent/wrg.conf: cannot open: No such "
	    "file or directory");
	free(err);
}

static int
setup(void **state)
{
	(void)state;
	wlog_init("test_registry", WLOG_INFO);
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* A config of the one runtime rt, each '@' in it standing for the
 * scratch dir (TLS files must exist to load). */
static struct registry *
same_upstream_load(const char *rt, char **err)
{
	size_t dlen = strlen(tmpdir), n = 0;
	char *text = malloc(strlen(rt) * (dlen + 1) + 32);
	struct registry *reg;

	assert_non_null(text);
	n += (size_t)sprintf(text, "{\"runtimes\": [");
	for (; *rt != '\0'; rt++) {
		if (*rt == '@') {
			memcpy(text + n, tmpdir, dlen);
			n += dlen;
		} else {
			text[n++] = *rt;
		}
	}
	strcpy(text + n, "]}");
	reg = load(text, err);
	free(text);
	return reg;
}

/* registry_same_upstream: a runtime is reached the same way unless what
 * the connection depends on changed. Each row: the "a" runtime of a
 * second config, against the base one. */
static void
test_same_upstream(void **state)
{
	static const char base_rt[] =
	    "{\"id\": \"a\", \"base_url\": \"https://h.example:8443/p\", "
	    "\"token\": \"t1\", \"tls\": {\"ca_file\": \"@/ca.pem\", "
	    "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}";
	static const struct {
		const char *name, *rt;
		bool same;
	} rows[] = {
		{ "identical", base_rt, true },
		{ "display name and timeouts only",
		  "{\"id\": \"a\", \"base_url\": \"https://h.example:8443/p\", "
		  "\"token\": \"t1\", \"display_name\": \"A\", "
		  "\"connect_timeout_ms\": 50, \"request_timeout_ms\": 60, "
		  "\"tls\": {\"ca_file\": \"@/ca.pem\", "
		  "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}",
		  true },
		{ "token",
		  "{\"id\": \"a\", \"base_url\": \"https://h.example:8443/p\", "
		  "\"token\": \"t2\", \"tls\": {\"ca_file\": \"@/ca.pem\", "
		  "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}",
		  false },
		{ "host",
		  "{\"id\": \"a\", \"base_url\": \"https://g.example:8443/p\", "
		  "\"token\": \"t1\", \"tls\": {\"ca_file\": \"@/ca.pem\", "
		  "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}",
		  false },
		{ "port",
		  "{\"id\": \"a\", \"base_url\": \"https://h.example:8444/p\", "
		  "\"token\": \"t1\", \"tls\": {\"ca_file\": \"@/ca.pem\", "
		  "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}",
		  false },
		{ "base path",
		  "{\"id\": \"a\", \"base_url\": \"https://h.example:8443/q\", "
		  "\"token\": \"t1\", \"tls\": {\"ca_file\": \"@/ca.pem\", "
		  "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}",
		  false },
		{ "transport",
		  "{\"id\": \"a\", \"base_url\": \"http://h.example:8443/p\", "
		  "\"token\": \"t1\"}", false },
		{ "no token",
		  "{\"id\": \"a\", \"base_url\": \"https://h.example:8443/p\", "
		  "\"tls\": {\"ca_file\": \"@/ca.pem\", "
		  "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}",
		  false },
		{ "CA file",
		  "{\"id\": \"a\", \"base_url\": \"https://h.example:8443/p\", "
		  "\"token\": \"t1\", \"tls\": {\"ca_file\": \"@/ca2.pem\", "
		  "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}",
		  false },
		{ "verify",
		  "{\"id\": \"a\", \"base_url\": \"https://h.example:8443/p\", "
		  "\"token\": \"t1\", \"tls\": {\"ca_file\": \"@/ca.pem\", "
		  "\"verify\": false, "
		  "\"client_cert\": \"@/c.pem\", \"client_key\": \"@/c.key\"}}",
		  false },
		{ "client key",
		  "{\"id\": \"a\", \"base_url\": \"https://h.example:8443/p\", "
		  "\"token\": \"t1\", \"tls\": {\"ca_file\": \"@/ca.pem\", "
		  "\"client_cert\": \"@/c.pem\"}}", false },
		{ "gone",
		  "{\"id\": \"b\", \"base_url\": \"https://h.example:8443/p\", "
		  "\"token\": \"t1\"}", false },
	};
	struct registry *a, *b;
	char *err = NULL;

	(void)state;
	free(write_file("ca.pem", "-", 0600));
	free(write_file("ca2.pem", "-", 0600));
	free(write_file("c.pem", "-", 0600));
	free(write_file("c.key", "-", 0600));
	a = same_upstream_load(base_rt, &err);
	if (a == NULL)
		fail_msg("base: %s", err);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		b = same_upstream_load(rows[i].rt, &err);
		if (b == NULL)
			fail_msg("%s: %s", rows[i].name, err);
		if (registry_same_upstream(a, b, "a") != rows[i].same ||
		    registry_same_upstream(b, a, "a") != rows[i].same)
			fail_msg("%s: want %s", rows[i].name,
			    rows[i].same ? "the same" : "changed");
		registry_free(b);
	}
	assert_false(registry_same_upstream(a, a, "nope"));
	registry_free(a);
}

static int
teardown(void **state)
{
	char *cmd = NULL;

	(void)state;
	if (asprintf(&cmd, "rm -rf '%s'", tmpdir) > 0 && system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmpdir);
	free(cmd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_https_default_port),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_runtime_errors),
		cmocka_unit_test(test_token_files),
		cmocka_unit_test(test_print_redacts),
		cmocka_unit_test(test_config_path),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_same_upstream),
	};

	return cmocka_run_group_tests_name("registry", tests, setup, teardown);
}
