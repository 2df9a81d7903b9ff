/*
 * registry — load and validate the registry config (see registry.h).
 *
 * Validation is complete and fails on the first problem, naming it as
 * "FILE: key.path: reason". The parser is json-c in non-strict mode (for
 * comments) via wjson_parse_config; everything about the shape is checked
 * here, against explicit key lists, so an unknown or misspelled key stops
 * startup instead of being silently ignored.
 *
 * Ownership: the registry owns every string in it; tokens are kept only in
 * struct registry_secrets and are wiped on free.
 */
#include "registry.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ids.h"
#include "wjson.h"
#include "wlog.h"
#include "listenspec.h"
#include "xalloc.h"

#ifndef WRG_SYSCONFDIR
#define WRG_SYSCONFDIR "/etc"
#endif

#define REGISTRY_FILE_MAX (1024 * 1024)
#define REGISTRY_TOKEN_MAX 4096
#define REGISTRY_RUNTIMES_MAX 1024
#define REGISTRY_ORIGINS_MAX 256

enum registry_auth {
	REGISTRY_AUTH_NONE = 0,
	REGISTRY_AUTH_TOKEN,
	REGISTRY_AUTH_TOKEN_FILE,
	REGISTRY_AUTH_TOKEN_ENV
};

struct registry_secret {
	enum registry_auth kind;
	char *ref;	/* token_file path or token_env name; not secret */
	char *token;	/* the bearer token; NULL for none */
};

struct registry_secrets {
	struct registry_secret *v;	/* parallel to registry.runtimes */
	size_t n;
};

/* Load context: where we are, for error messages. */
struct registry_ctx {
	const char *file;
	char *err;	/* first error, malloc'd */
};

static int registry_fail(struct registry_ctx *ctx, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
registry_fail(struct registry_ctx *ctx, const char *key, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	if (ctx->err != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ctx->err = key && *key ? xasprintf("%s: %s: %s", ctx->file, key, reason)
	    : xasprintf("%s: %s", ctx->file, reason);
	return -1;
}

/* ---- generic typed getters -------------------------------------------- */

static char *
registry_key(const char *parent, const char *key)
{
	return *parent ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

/* Refuses keys of obj not in allowed (NULL-terminated). */
static int
registry_check_keys(struct registry_ctx *ctx, struct json_object *obj,
    const char *path, const char *const *allowed)
{
	json_object_object_foreach(obj, key, val) {
		size_t i;

		(void)val;
		for (i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			char *k = registry_key(path, key);

			registry_fail(ctx, k, "unknown key");
			free(k);
			return -1;
		}
	}
	return 0;
}

/* Returns 1 if present, 0 if absent, -1 on type error. */
static int
registry_get(struct registry_ctx *ctx, struct json_object *obj,
    const char *path, const char *key, enum json_type type,
    struct json_object **out)
{
	struct json_object *v = NULL;
	static const char *const names[] = {
		[json_type_null] = "null", [json_type_boolean] = "a boolean",
		[json_type_double] = "a number", [json_type_int] = "an integer",
		[json_type_object] = "an object", [json_type_array] = "an array",
		[json_type_string] = "a string",
	};

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (v == NULL || !json_object_is_type(v, type)) {
		char *k = registry_key(path, key);

		registry_fail(ctx, k, "must be %s", names[type]);
		free(k);
		return -1;
	}
	*out = v;
	return 1;
}

static int
registry_get_string(struct registry_ctx *ctx, struct json_object *obj,
    const char *path, const char *key, size_t maxlen, char **out)
{
	struct json_object *v;
	int r = registry_get(ctx, obj, path, key, json_type_string, &v);

	if (r <= 0)
		return r;
	if (json_object_get_string_len(v) == 0 ||
	    (size_t)json_object_get_string_len(v) > maxlen) {
		char *k = registry_key(path, key);

		registry_fail(ctx, k, "must be 1 to %zu bytes", maxlen);
		free(k);
		return -1;
	}
	*out = xstrdup(json_object_get_string(v));
	return 1;
}

static int
registry_get_uint(struct registry_ctx *ctx, struct json_object *obj,
    const char *path, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	struct json_object *v;
	int r = registry_get(ctx, obj, path, key, json_type_int, &v);
	int64_t n;

	if (r <= 0)
		return r;
	n = json_object_get_int64(v);
	if (n < min || n > max) {
		char *k = registry_key(path, key);

		registry_fail(ctx, k, "must be between %lld and %lld",
		    (long long)min, (long long)max);
		free(k);
		return -1;
	}
	*out = n;
	return 1;
}

static int
registry_get_bool(struct registry_ctx *ctx, struct json_object *obj,
    const char *path, const char *key, bool *out)
{
	struct json_object *v;
	int r = registry_get(ctx, obj, path, key, json_type_boolean, &v);

	if (r == 1)
		*out = json_object_get_boolean(v);
	return r;
}

/* A readable regular file, for TLS material. */
static int
registry_check_readable(struct registry_ctx *ctx, const char *key,
    const char *file)
{
	struct stat st;

	if (stat(file, &st) != 0 || access(file, R_OK) != 0)
		return registry_fail(ctx, key, "cannot read '%s': %s", file,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return registry_fail(ctx, key, "'%s' is not a regular file",
		    file);
	return 0;
}

/* ---- top-level sections ----------------------------------------------- */

static int
registry_parse_prefix(struct registry_ctx *ctx, struct registry *reg,
    struct json_object *root)
{
	char *p = NULL;
	int r = registry_get_string(ctx, root, "", "api_prefix", 128, &p);

	if (r < 0)
		return -1;
	if (r == 0)
		p = xstrdup("/api");
	reg->api_prefix = p;
	/* (/segment)+ with URL-safe characters only: it is matched
	 * byte-for-byte against raw request paths. */
	if (p[0] != '/')
		return registry_fail(ctx, "api_prefix", "must start with '/'");
	for (size_t i = 0; p[i]; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '/' && (p[i + 1] == '/' || p[i + 1] == '\0'))
			return registry_fail(ctx, "api_prefix",
			    "must be /segment[/segment...] without a trailing "
			    "or doubled '/'");
		if (c != '/' && !isalnum(c) && !strchr("._~-", c))
			return registry_fail(ctx, "api_prefix",
			    "may only contain letters, digits, '/', '.', '_', "
			    "'~', '-'");
	}
	return 0;
}

static int
registry_parse_log_format(struct registry_ctx *ctx, struct registry *reg,
    struct json_object *root)
{
	char *f = NULL;
	int r = registry_get_string(ctx, root, "", "log_format", 16, &f);

	if (r <= 0)
		return r;
	if (strcmp(f, "json") == 0)
		reg->log_json = true;
	else if (strcmp(f, "text") != 0)
		r = registry_fail(ctx, "log_format", "must be \"text\" or \"json\"");
	free(f);
	return r < 0 ? -1 : 0;
}

/* Parses an http(s) URL with libcurl. On success fills scheme/host/port/
 * path (malloc'd by curl, freed by the caller with curl_free). */
struct registry_url {
	char *scheme, *host, *port, *path, *user, *query, *fragment;
};

static void
registry_url_free(struct registry_url *u)
{
	curl_free(u->scheme);
	curl_free(u->host);
	curl_free(u->port);
	curl_free(u->path);
	curl_free(u->user);
	curl_free(u->query);
	curl_free(u->fragment);
	memset(u, 0, sizeof(*u));
}

static int
registry_url_parse(const char *s, struct registry_url *u)
{
	CURLU *h = curl_url();
	int ok = -1;

	memset(u, 0, sizeof(*u));
	if (h == NULL)
		return -1;
	if (curl_url_set(h, CURLUPART_URL, s, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(h, CURLUPART_SCHEME, &u->scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &u->port, CURLU_DEFAULT_PORT)
	    != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PATH, &u->path, 0) != CURLUE_OK)
		goto out;
	/* Absent parts are errors from curl_url_get; that is what we want. */
	curl_url_get(h, CURLUPART_USER, &u->user, 0);
	curl_url_get(h, CURLUPART_QUERY, &u->query, 0);
	curl_url_get(h, CURLUPART_FRAGMENT, &u->fragment, 0);
	ok = 0;
out:
	curl_url_cleanup(h);
	if (ok != 0)
		registry_url_free(u);
	return ok;
}

static int
registry_parse_origins(struct registry_ctx *ctx, struct registry *reg,
    struct json_object *root)
{
	struct json_object *arr;
	int r = registry_get(ctx, root, "", "allowed_origins", json_type_array,
	    &arr);
	size_t n;

	if (r <= 0)
		return r;
	n = json_object_array_length(arr);
	if (n > REGISTRY_ORIGINS_MAX)
		return registry_fail(ctx, "allowed_origins",
		    "at most %d entries", REGISTRY_ORIGINS_MAX);
	reg->allowed_origins = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		struct registry_url u;
		char key[64];
		const char *s;
		size_t len;
		int bad;

		snprintf(key, sizeof(key), "allowed_origins[%zu]", i);
		if (v == NULL || !json_object_is_type(v, json_type_string))
			return registry_fail(ctx, key, "must be a string");
		s = json_object_get_string(v);
		len = strlen(s);
		if (registry_url_parse(s, &u) != 0)
			return registry_fail(ctx, key,
			    "must be an origin like https://panel.example");
		bad = (strcmp(u.scheme, "http") != 0 &&
		    strcmp(u.scheme, "https") != 0) || u.user || u.query ||
		    u.fragment || strcmp(u.path, "/") != 0 ||
		    (len && s[len - 1] == '/');
		registry_url_free(&u);
		if (bad)
			return registry_fail(ctx, key,
			    "must be scheme://host[:port] with no path");
		reg->allowed_origins[i] = xstrdup(s);
		for (char *c = reg->allowed_origins[i]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		reg->allowed_origin_count = i + 1;
	}
	return 0;
}

static int
registry_parse_limits(struct registry_ctx *ctx, struct registry *reg,
    struct json_object *root)
{
	static const char *const keys[] = { "max_request_body_bytes",
		"max_upstream_body_bytes", NULL };
	struct json_object *o;
	int64_t v;
	int r;

	reg->max_request_body_bytes = 1048576;
	reg->max_upstream_body_bytes = 8388608;
	if ((r = registry_get(ctx, root, "", "limits", json_type_object, &o)) <= 0)
		return r;
	if (registry_check_keys(ctx, o, "limits", keys) < 0)
		return -1;
	if ((r = registry_get_uint(ctx, o, "limits", "max_request_body_bytes",
	    64, INT64_C(1) << 30, &v)) < 0)
		return -1;
	if (r)
		reg->max_request_body_bytes = (size_t)v;
	if ((r = registry_get_uint(ctx, o, "limits", "max_upstream_body_bytes",
	    1024, INT64_C(1) << 30, &v)) < 0)
		return -1;
	if (r)
		reg->max_upstream_body_bytes = (size_t)v;
	return 0;
}

static int
registry_parse_fcgi(struct registry_ctx *ctx, struct registry *reg,
    struct json_object *root)
{
	static const char *const keys[] = { "threads", "trust_request_id",
		"metrics_path", "metrics_state", NULL };
	struct json_object *o;
	int64_t v;
	int r;

	reg->fcgi_threads = 4;
	/* Off: a browser must not choose the id wrg logs and sends to
	 * runtimes (log forging, correlation spoofing). */
	reg->fcgi_trust_request_id = false;
	if ((r = registry_get(ctx, root, "", "fcgi", json_type_object, &o)) <= 0)
		return r;
	if (registry_check_keys(ctx, o, "fcgi", keys) < 0)
		return -1;
	if ((r = registry_get_uint(ctx, o, "fcgi", "threads", 1, 256, &v)) < 0)
		return -1;
	if (r)
		reg->fcgi_threads = (unsigned)v;
	if (registry_get_bool(ctx, o, "fcgi", "trust_request_id",
	    &reg->fcgi_trust_request_id) < 0)
		return -1;
	if (registry_get_string(ctx, o, "fcgi", "metrics_path", 128,
	    &reg->fcgi_metrics_path) < 0 ||
	    registry_get_string(ctx, o, "fcgi", "metrics_state", 4000,
	    &reg->fcgi_metrics_state) < 0)
		return -1;
	return 0;
}

/* fcgi.metrics_path: compared byte for byte with the request path, so
 * URL-safe characters only, and outside api_prefix (where every path is
 * the browser API's). Runs after api_prefix is known. */
static int
registry_check_metrics(struct registry_ctx *ctx, struct registry *reg)
{
	const char *p = reg->fcgi_metrics_path;
	size_t plen = strlen(reg->api_prefix);

	if (reg->fcgi_metrics_state == NULL)
		reg->fcgi_metrics_state = xstrdup(REGISTRY_METRICS_STATE);
	if (reg->fcgi_metrics_state[0] != '/')
		return registry_fail(ctx, "fcgi.metrics_state",
		    "must be an absolute path");
	if (p == NULL)
		return 0;
	if (p[0] != '/')
		return registry_fail(ctx, "fcgi.metrics_path",
		    "must start with '/'");
	for (size_t i = 0; p[i]; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr("/._~-", p[i]))
			return registry_fail(ctx, "fcgi.metrics_path",
			    "may only contain letters, digits, '/', '.', '_', "
			    "'~', '-'");
	if (strncmp(p, reg->api_prefix, plen) == 0 &&
	    (p[plen] == '\0' || p[plen] == '/'))
		return registry_fail(ctx, "fcgi.metrics_path",
		    "must be outside api_prefix (%s)", reg->api_prefix);
	return 0;
}

/* "unix:/abs/path" or "HOST:PORT" with a numeric IPv4, [IPv6] or
 * "localhost" host: s, the value of key, into *host and *port or *unix. */
static int
registry_parse_addr(struct registry_ctx *ctx, const char *key, const char *s,
    char **host_out, int *port_out, char **unix_out)
{
	struct listenspec ls;
	enum listenspec_err e = listenspec_parse(s, &ls);

	if (e != LISTENSPEC_OK)
		return registry_fail(ctx, key, "%s", listenspec_strerror(e));
	/* The fields take over ls's strings. */
	*host_out = ls.host;
	*port_out = ls.port;
	*unix_out = ls.unix_path;
	return 0;
}

static int
registry_parse_wsproxy(struct registry_ctx *ctx, struct registry *reg,
    struct json_object *root)
{
	static const char *const keys[] = { "listen", "max_connections",
		"send_queue_max_bytes", "ping_interval_s", "reconnect_initial_ms",
		"reconnect_max_ms", "feed_linger_ms", "feed_replay_bytes",
		"metrics_listen", NULL };
	struct registry_wsproxy *ws = &reg->wsproxy;
	struct json_object *o = NULL;
	int64_t v;
	int r;

	ws->max_connections = 10000;
	ws->send_queue_max_bytes = 1048576;
	ws->ping_interval_s = 30;
	ws->reconnect_initial_ms = 250;
	ws->reconnect_max_ms = 10000;
	ws->feed_linger_ms = 2000;
	ws->feed_replay_bytes = 1048576;
	if ((r = registry_get(ctx, root, "", "wsproxy", json_type_object, &o)) < 0)
		return -1;
	if (o != NULL) {
		if (registry_check_keys(ctx, o, "wsproxy", keys) < 0 ||
		    registry_get_string(ctx, o, "wsproxy", "listen", 200,
		    &ws->listen) < 0 ||
		    registry_get_string(ctx, o, "wsproxy", "metrics_listen",
		    200, &ws->metrics_listen) < 0)
			return -1;
		if ((r = registry_get_uint(ctx, o, "wsproxy", "max_connections",
		    1, 1000000, &v)) < 0)
			return -1;
		if (r)
			ws->max_connections = (unsigned)v;
		if ((r = registry_get_uint(ctx, o, "wsproxy",
		    "send_queue_max_bytes", 4096, INT64_C(1) << 30, &v)) < 0)
			return -1;
		if (r)
			ws->send_queue_max_bytes = (size_t)v;
		if ((r = registry_get_uint(ctx, o, "wsproxy", "ping_interval_s",
		    0, 3600, &v)) < 0)
			return -1;
		if (r)
			ws->ping_interval_s = (unsigned)v;
		if ((r = registry_get_uint(ctx, o, "wsproxy",
		    "reconnect_initial_ms", 1, 600000, &v)) < 0)
			return -1;
		if (r)
			ws->reconnect_initial_ms = (unsigned)v;
		if ((r = registry_get_uint(ctx, o, "wsproxy", "reconnect_max_ms",
		    1, 3600000, &v)) < 0)
			return -1;
		if (r)
			ws->reconnect_max_ms = (unsigned)v;
		if ((r = registry_get_uint(ctx, o, "wsproxy", "feed_linger_ms",
		    0, 3600000, &v)) < 0)
			return -1;
		if (r)
			ws->feed_linger_ms = (unsigned)v;
		if ((r = registry_get_uint(ctx, o, "wsproxy",
		    "feed_replay_bytes", 0, INT64_C(1) << 30, &v)) < 0)
			return -1;
		if (r)
			ws->feed_replay_bytes = (size_t)v;
	}
	if (ws->reconnect_max_ms < ws->reconnect_initial_ms)
		return registry_fail(ctx, "wsproxy.reconnect_max_ms",
		    "must be at least reconnect_initial_ms (%u)",
		    ws->reconnect_initial_ms);
	if (ws->listen == NULL)
		ws->listen = xstrdup("127.0.0.1:8792");
	if (ws->metrics_listen != NULL) {
		if (registry_parse_addr(ctx, "wsproxy.metrics_listen",
		    ws->metrics_listen, &ws->metrics_host, &ws->metrics_port,
		    &ws->metrics_unix) < 0)
			return -1;
		if (strcmp(ws->metrics_listen, ws->listen) == 0)
			return registry_fail(ctx, "wsproxy.metrics_listen",
			    "must differ from wsproxy.listen");
	}
	return registry_parse_addr(ctx, "wsproxy.listen", ws->listen,
	    &ws->listen_host, &ws->listen_port, &ws->listen_unix);
}

/* ---- runtimes ----------------------------------------------------------- */

static int
registry_parse_base_url(struct registry_ctx *ctx, const char *key,
    struct registry_runtime *rt)
{
	const char *s = rt->base_url;
	struct registry_url u;
	size_t plen;
	char *end;
	long port;
	int rc = -1;

	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/' ||
		    strlen(s + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return registry_fail(ctx, key,
			    "unix: needs an absolute socket path shorter than "
			    "%zu bytes",
			    sizeof(((struct sockaddr_un *)0)->sun_path));
		rt->transport = REGISTRY_TRANSPORT_UNIX;
		rt->unix_path = xstrdup(s + 5);
		rt->host = xstrdup("localhost");
		rt->base_path = xstrdup("");
		return 0;
	}
	if (registry_url_parse(s, &u) != 0)
		return registry_fail(ctx, key,
		    "must be http://HOST[:PORT][/path], https://... or "
		    "unix:/path.sock");
	if (strcmp(u.scheme, "http") == 0)
		rt->transport = REGISTRY_TRANSPORT_HTTP;
	else if (strcmp(u.scheme, "https") == 0)
		rt->transport = REGISTRY_TRANSPORT_HTTPS;
	else {
		registry_fail(ctx, key, "scheme must be http, https or unix");
		goto out;
	}
	if (u.user || u.query || u.fragment) {
		registry_fail(ctx, key,
		    "must not contain credentials, a query or a fragment "
		    "(use token_file for auth)");
		goto out;
	}
	port = strtol(u.port, &end, 10);
	if (*end || port < 1 || port > 65535) {
		registry_fail(ctx, key, "bad port");
		goto out;
	}
	rt->port = (int)port;
	plen = strlen(u.host);
	if (plen > 2 && u.host[0] == '[' && u.host[plen - 1] == ']')
		rt->host = xstrndup(u.host + 1, plen - 2);
	else
		rt->host = xstrdup(u.host);
	plen = strlen(u.path);
	while (plen > 0 && u.path[plen - 1] == '/')
		plen--;
	rt->base_path = xstrndup(u.path, plen);
	rc = 0;
out:
	registry_url_free(&u);
	return rc;
}

/* Bearer tokens go into an HTTP header: printable ASCII, no spaces. */
static int
registry_token_ok(const char *t)
{
	if (*t == '\0')
		return 0;
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return 0;
	return 1;
}

static int
registry_read_token_file(struct registry_ctx *ctx, const char *key,
    const char *file, char **out)
{
	char buf[REGISTRY_TOKEN_MAX + 2];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, rc = -1;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return registry_fail(ctx, key, "cannot read '%s': %s", file,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		registry_fail(ctx, key, "'%s' is not a regular file", file);
		goto out;
	}
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (len > REGISTRY_TOKEN_MAX || !registry_token_ok(buf)) {
		registry_fail(ctx, key, "'%s' must hold one token of 1 to %d "
		    "printable characters", file, REGISTRY_TOKEN_MAX);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		wlog(WLOG_WARN, NULL, NULL, "%s: %s: token file '%s' is "
		    "readable by group or others (chmod 600 it)", ctx->file,
		    key, file);
	*out = xstrdup(buf);
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

static int
registry_parse_auth(struct registry_ctx *ctx, struct json_object *o,
    const char *path, struct registry_secret *sec)
{
	char *tok = NULL, *file = NULL, *env = NULL, *key = NULL;
	int n = 0, rc = -1;

	if (registry_get_string(ctx, o, path, "token", REGISTRY_TOKEN_MAX,
	    &tok) < 0 || registry_get_string(ctx, o, path, "token_file", 4096,
	    &file) < 0 || registry_get_string(ctx, o, path, "token_env", 256,
	    &env) < 0)
		goto out;
	n = (tok != NULL) + (file != NULL) + (env != NULL);
	if (n > 1) {
		registry_fail(ctx, path,
		    "give only one of token, token_file, token_env");
		goto out;
	}
	if (tok != NULL) {
		key = registry_key(path, "token");
		if (!registry_token_ok(tok)) {
			registry_fail(ctx, key,
			    "must be printable characters without spaces");
			goto out;
		}
		sec->kind = REGISTRY_AUTH_TOKEN;
		sec->token = tok;
		tok = NULL;
	} else if (file != NULL) {
		key = registry_key(path, "token_file");
		if (registry_read_token_file(ctx, key, file, &sec->token) < 0)
			goto out;
		sec->kind = REGISTRY_AUTH_TOKEN_FILE;
		sec->ref = file;
		file = NULL;
	} else if (env != NULL) {
		const char *val = getenv(env);

		key = registry_key(path, "token_env");
		if (val == NULL || !registry_token_ok(val) ||
		    strlen(val) > REGISTRY_TOKEN_MAX) {
			registry_fail(ctx, key, "environment variable %s is "
			    "unset, empty or not a valid token", env);
			goto out;
		}
		sec->kind = REGISTRY_AUTH_TOKEN_ENV;
		sec->token = xstrdup(val);
		sec->ref = env;
		env = NULL;
	}
	rc = 0;
out:
	if (tok)
		explicit_bzero(tok, strlen(tok));
	free(tok);
	free(file);
	free(env);
	free(key);
	return rc;
}

static int
registry_parse_tls(struct registry_ctx *ctx, struct json_object *o,
    const char *path, struct registry_runtime *rt)
{
	static const char *const keys[] = { "ca_file", "verify", "client_cert",
		"client_key", NULL };
	struct json_object *tls;
	char *tpath = registry_key(path, "tls"), *k = NULL;
	int r, rc = -1;

	rt->tls.verify = true;
	if ((r = registry_get(ctx, o, path, "tls", json_type_object, &tls)) < 0)
		goto out;
	if (r == 0) {
		rc = 0;
		goto out;
	}
	if (rt->transport != REGISTRY_TRANSPORT_HTTPS) {
		registry_fail(ctx, tpath, "only allowed with an https base_url");
		goto out;
	}
	if (registry_check_keys(ctx, tls, tpath, keys) < 0 ||
	    registry_get_string(ctx, tls, tpath, "ca_file", 4096,
	    &rt->tls.ca_file) < 0 ||
	    registry_get_bool(ctx, tls, tpath, "verify", &rt->tls.verify) < 0 ||
	    registry_get_string(ctx, tls, tpath, "client_cert", 4096,
	    &rt->tls.client_cert) < 0 ||
	    registry_get_string(ctx, tls, tpath, "client_key", 4096,
	    &rt->tls.client_key) < 0)
		goto out;
	if (rt->tls.client_key && !rt->tls.client_cert) {
		k = registry_key(tpath, "client_key");
		registry_fail(ctx, k, "needs client_cert");
		goto out;
	}
#define REGISTRY_TLS_FILE(field) \
	if (rt->tls.field) { \
		free(k); \
		k = registry_key(tpath, #field); \
		if (registry_check_readable(ctx, k, rt->tls.field) < 0) \
			goto out; \
	}
	REGISTRY_TLS_FILE(ca_file)
	REGISTRY_TLS_FILE(client_cert)
	REGISTRY_TLS_FILE(client_key)
#undef REGISTRY_TLS_FILE
	if (!rt->tls.verify)
		wlog(WLOG_WARN, NULL, rt->id, "%s: %s.verify is false: the "
		    "runtime's certificate is not checked", ctx->file, tpath);
	rc = 0;
out:
	free(k);
	free(tpath);
	return rc;
}

static int
registry_parse_runtime(struct registry_ctx *ctx, struct registry *reg,
    struct json_object *o, size_t i)
{
	static const char *const keys[] = { "id", "display_name", "base_url",
		"token", "token_file", "token_env", "connect_timeout_ms",
		"request_timeout_ms", "tls", NULL };
	struct registry_runtime *rt = &reg->runtimes[i];
	struct json_object *dn;
	char path[64], *k = NULL;
	int64_t v;
	int r, rc = -1;

	snprintf(path, sizeof(path), "runtimes[%zu]", i);
	rt->index = i;
	rt->connect_timeout_ms = 2000;
	rt->request_timeout_ms = 10000;
	if (!json_object_is_type(o, json_type_object))
		return registry_fail(ctx, path, "must be an object");
	if (registry_check_keys(ctx, o, path, keys) < 0)
		return -1;
	k = registry_key(path, "id");
	if ((r = registry_get_string(ctx, o, path, "id", 64, &rt->id)) < 0)
		goto out;
	if (r == 0) {
		registry_fail(ctx, k, "is required");
		goto out;
	}
	if (!ids_runtime_id_valid(rt->id)) {
		registry_fail(ctx, k, "must be 1 to 64 of [A-Za-z0-9._-]");
		goto out;
	}
	for (size_t j = 0; j < i; j++)
		if (strcmp(reg->runtimes[j].id, rt->id) == 0) {
			registry_fail(ctx, k, "duplicate id '%s' (also "
			    "runtimes[%zu])", rt->id, j);
			goto out;
		}
	if (json_object_object_get_ex(o, "display_name", &dn) && dn == NULL)
		;	/* explicit null: no display name */
	else if (registry_get_string(ctx, o, path, "display_name", 256,
	    &rt->display_name) < 0)
		goto out;
	free(k);
	k = registry_key(path, "base_url");
	if ((r = registry_get_string(ctx, o, path, "base_url", 2048,
	    &rt->base_url)) < 0)
		goto out;
	if (r == 0) {
		registry_fail(ctx, k, "is required");
		goto out;
	}
	if (registry_parse_base_url(ctx, k, rt) < 0)
		goto out;
	if ((r = registry_get_uint(ctx, o, path, "connect_timeout_ms", 1,
	    600000, &v)) < 0)
		goto out;
	if (r)
		rt->connect_timeout_ms = (long)v;
	if ((r = registry_get_uint(ctx, o, path, "request_timeout_ms", 1,
	    3600000, &v)) < 0)
		goto out;
	if (r)
		rt->request_timeout_ms = (long)v;
	if (registry_parse_tls(ctx, o, path, rt) < 0 ||
	    registry_parse_auth(ctx, o, path, &reg->secrets->v[i]) < 0)
		goto out;
	rc = 0;
out:
	free(k);
	return rc;
}

static int
registry_parse_runtimes(struct registry_ctx *ctx, struct registry *reg,
    struct json_object *root)
{
	struct json_object *arr;
	size_t n;
	int r;

	if ((r = registry_get(ctx, root, "", "runtimes", json_type_array,
	    &arr)) < 0)
		return -1;
	n = r ? json_object_array_length(arr) : 0;
	if (n > REGISTRY_RUNTIMES_MAX)
		return registry_fail(ctx, "runtimes", "at most %d runtimes",
		    REGISTRY_RUNTIMES_MAX);
	reg->runtimes = xcalloc(n ? n : 1, sizeof(*reg->runtimes));
	reg->secrets->v = xcalloc(n ? n : 1, sizeof(*reg->secrets->v));
	for (size_t i = 0; i < n; i++) {
		/* Count first so registry_free sees every partial entry. */
		reg->runtime_count = i + 1;
		reg->secrets->n = i + 1;
		if (registry_parse_runtime(ctx, reg,
		    json_object_array_get_idx(arr, i), i) < 0)
			return -1;
	}
	if (n == 0)
		wlog(WLOG_WARN, NULL, NULL, "%s: runtimes: no runtimes "
		    "configured", ctx->file);
	return 0;
}

/* ---- public API ---------------------------------------------------------- */

const char *
registry_config_path(const char *cli_path)
{
	const char *env;

	if (cli_path != NULL)
		return cli_path;
	env = getenv("WRG_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return WRG_SYSCONFDIR "/wrg/wrg.conf";
}

/* Inline tokens were copied into the secrets table; zero json-c's
 * copies before they go back to the allocator. */
static void
registry_wipe_inline_tokens(struct json_object *root)
{
	struct json_object *arr, *rt, *tok;

	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "runtimes", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		rt = json_object_array_get_idx(arr, i);
		if (json_object_is_type(rt, json_type_object) &&
		    json_object_object_get_ex(rt, "token", &tok) &&
		    json_object_is_type(tok, json_type_string))
			explicit_bzero((char *)json_object_get_string(tok),
			    (size_t)json_object_get_string_len(tok));
	}
}

struct registry *
registry_load_buffer(const char *name, const char *text, size_t len,
    char **errmsg)
{
	static const char *const keys[] = { "api_prefix", "log_format",
		"allowed_origins", "limits", "fcgi", "wsproxy", "runtimes",
		NULL };
	struct registry_ctx ctx = { .file = name, .err = NULL };
	struct registry *reg = xcalloc(1, sizeof(*reg));
	struct json_object *root = NULL;
	char perr[256];

	reg->path = xstrdup(name);
	reg->secrets = xcalloc(1, sizeof(*reg->secrets));
	root = wjson_parse_config(text, len, perr, sizeof(perr));
	if (root == NULL) {
		registry_fail(&ctx, NULL, "%s", perr);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		registry_fail(&ctx, NULL, "the top level must be an object");
		goto out;
	}
	if (registry_check_keys(&ctx, root, "", keys) < 0 ||
	    registry_parse_prefix(&ctx, reg, root) < 0 ||
	    registry_parse_log_format(&ctx, reg, root) < 0 ||
	    registry_parse_origins(&ctx, reg, root) < 0 ||
	    registry_parse_limits(&ctx, reg, root) < 0 ||
	    registry_parse_fcgi(&ctx, reg, root) < 0 ||
	    registry_check_metrics(&ctx, reg) < 0 ||
	    registry_parse_wsproxy(&ctx, reg, root) < 0 ||
	    registry_parse_runtimes(&ctx, reg, root) < 0)
		goto out;
out:
	registry_wipe_inline_tokens(root);
	json_object_put(root);
	if (ctx.err != NULL) {
		registry_free(reg);
		*errmsg = ctx.err;
		return NULL;
	}
	*errmsg = NULL;
	return reg;
}

struct registry *
registry_load_file(const char *path, char **errmsg)
{
	struct registry *reg = NULL;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*errmsg = xasprintf("%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	buf = xmalloc(REGISTRY_FILE_MAX + 1);
	while (len <= REGISTRY_FILE_MAX &&
	    (n = read(fd, buf + len, REGISTRY_FILE_MAX + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len > REGISTRY_FILE_MAX) {
		*errmsg = xasprintf("%s: larger than %d bytes", path,
		    REGISTRY_FILE_MAX);
		goto out;
	}
	reg = registry_load_buffer(path, buf, len, errmsg);
out:
	explicit_bzero(buf, len);	/* it may hold inline tokens */
	free(buf);
	return reg;
}

static void
registry_runtime_free(struct registry_runtime *rt)
{
	free(rt->id);
	free(rt->display_name);
	free(rt->base_url);
	free(rt->host);
	free(rt->base_path);
	free(rt->unix_path);
	free(rt->tls.ca_file);
	free(rt->tls.client_cert);
	free(rt->tls.client_key);
}

void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->runtime_count; i++)
		registry_runtime_free(&reg->runtimes[i]);
	free(reg->runtimes);
	if (reg->secrets) {
		for (size_t i = 0; i < reg->secrets->n; i++) {
			struct registry_secret *s = &reg->secrets->v[i];

			if (s->token)
				explicit_bzero(s->token, strlen(s->token));
			free(s->token);
			free(s->ref);
		}
		free(reg->secrets->v);
		free(reg->secrets);
	}
	for (size_t i = 0; i < reg->allowed_origin_count; i++)
		free(reg->allowed_origins[i]);
	free(reg->allowed_origins);
	free(reg->wsproxy.listen);
	free(reg->wsproxy.listen_host);
	free(reg->wsproxy.listen_unix);
	free(reg->wsproxy.metrics_listen);
	free(reg->wsproxy.metrics_host);
	free(reg->wsproxy.metrics_unix);
	free(reg->fcgi_metrics_path);
	free(reg->fcgi_metrics_state);
	free(reg->api_prefix);
	free(reg->path);
	free(reg);
}

const struct registry_runtime *
registry_find(const struct registry *reg, const char *id)
{
	for (size_t i = 0; i < reg->runtime_count; i++)
		if (strcmp(reg->runtimes[i].id, id) == 0)
			return &reg->runtimes[i];
	return NULL;
}

const char *
registry_token(const struct registry *reg, const struct registry_runtime *rt)
{
	if (rt->index >= reg->secrets->n)
		return NULL;
	return reg->secrets->v[rt->index].token;
}

const char *
registry_transport_name(enum registry_transport t)
{
	switch (t) {
	case REGISTRY_TRANSPORT_HTTPS:
		return "https";
	case REGISTRY_TRANSPORT_UNIX:
		return "unix";
	default:
		return "http";
	}
}

static struct json_object *
registry_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *
registry_runtime_json(const struct registry *reg,
    const struct registry_runtime *rt)
{
	const struct registry_secret *sec = &reg->secrets->v[rt->index];
	static const char *const auth_names[] = { "none", "token (inline, "
		"redacted)", "token_file", "token_env" };
	struct json_object *o = json_object_new_object(), *a, *t;

	json_object_object_add(o, "id", json_object_new_string(rt->id));
	json_object_object_add(o, "display_name",
	    registry_str_or_null(rt->display_name));
	json_object_object_add(o, "base_url",
	    json_object_new_string(rt->base_url));
	json_object_object_add(o, "transport", json_object_new_string(
	    registry_transport_name(rt->transport)));
	a = json_object_new_object();
	json_object_object_add(a, "kind",
	    json_object_new_string(auth_names[sec->kind]));
	if (sec->ref)
		json_object_object_add(a, sec->kind == REGISTRY_AUTH_TOKEN_ENV ?
		    "variable" : "file", json_object_new_string(sec->ref));
	json_object_object_add(o, "auth", a);
	json_object_object_add(o, "connect_timeout_ms",
	    json_object_new_int64(rt->connect_timeout_ms));
	json_object_object_add(o, "request_timeout_ms",
	    json_object_new_int64(rt->request_timeout_ms));
	if (rt->transport == REGISTRY_TRANSPORT_HTTPS) {
		t = json_object_new_object();
		json_object_object_add(t, "ca_file",
		    registry_str_or_null(rt->tls.ca_file));
		json_object_object_add(t, "verify",
		    json_object_new_boolean(rt->tls.verify));
		json_object_object_add(t, "client_cert",
		    registry_str_or_null(rt->tls.client_cert));
		json_object_object_add(t, "client_key",
		    registry_str_or_null(rt->tls.client_key));
		json_object_object_add(o, "tls", t);
	}
	return o;
}

void
registry_print(const struct registry *reg, FILE *out)
{
	struct json_object *root = json_object_new_object(), *o, *arr;

	json_object_object_add(root, "config", json_object_new_string(reg->path));
	json_object_object_add(root, "api_prefix",
	    json_object_new_string(reg->api_prefix));
	json_object_object_add(root, "log_format",
	    json_object_new_string(reg->log_json ? "json" : "text"));
	arr = json_object_new_array();
	for (size_t i = 0; i < reg->allowed_origin_count; i++)
		json_object_array_add(arr,
		    json_object_new_string(reg->allowed_origins[i]));
	json_object_object_add(root, "allowed_origins", arr);
	o = json_object_new_object();
	json_object_object_add(o, "max_request_body_bytes",
	    json_object_new_int64((int64_t)reg->max_request_body_bytes));
	json_object_object_add(o, "max_upstream_body_bytes",
	    json_object_new_int64((int64_t)reg->max_upstream_body_bytes));
	json_object_object_add(root, "limits", o);
	o = json_object_new_object();
	json_object_object_add(o, "threads",
	    json_object_new_int64(reg->fcgi_threads));
	json_object_object_add(o, "trust_request_id",
	    json_object_new_boolean(reg->fcgi_trust_request_id));
	json_object_object_add(o, "metrics_path",
	    registry_str_or_null(reg->fcgi_metrics_path));
	json_object_object_add(o, "metrics_state",
	    json_object_new_string(reg->fcgi_metrics_state));
	json_object_object_add(root, "fcgi", o);
	o = json_object_new_object();
	json_object_object_add(o, "listen",
	    json_object_new_string(reg->wsproxy.listen));
	json_object_object_add(o, "max_connections",
	    json_object_new_int64(reg->wsproxy.max_connections));
	json_object_object_add(o, "send_queue_max_bytes",
	    json_object_new_int64((int64_t)reg->wsproxy.send_queue_max_bytes));
	json_object_object_add(o, "ping_interval_s",
	    json_object_new_int64(reg->wsproxy.ping_interval_s));
	json_object_object_add(o, "reconnect_initial_ms",
	    json_object_new_int64(reg->wsproxy.reconnect_initial_ms));
	json_object_object_add(o, "reconnect_max_ms",
	    json_object_new_int64(reg->wsproxy.reconnect_max_ms));
	json_object_object_add(o, "feed_linger_ms",
	    json_object_new_int64(reg->wsproxy.feed_linger_ms));
	json_object_object_add(o, "feed_replay_bytes",
	    json_object_new_int64((int64_t)reg->wsproxy.feed_replay_bytes));
	json_object_object_add(o, "metrics_listen",
	    registry_str_or_null(reg->wsproxy.metrics_listen));
	json_object_object_add(root, "wsproxy", o);
	arr = json_object_new_array();
	for (size_t i = 0; i < reg->runtime_count; i++)
		json_object_array_add(arr, registry_runtime_json(reg,
		    &reg->runtimes[i]));
	json_object_object_add(root, "runtimes", arr);
	fprintf(out, "%s\n", json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}
