/*
 * registry_runtime — the runtimes array of the registry config: each
 * runtime's keys come from the key table (registry_keys.c); this file
 * holds the handlers that need more than a type and a range: the id, the
 * base_url, the token sources and the tls rules.
 *
 * Ownership: strings go into the runtime (freed by registry_free); tokens
 * only into struct registry_secrets, wiped on free.
 */
#include "registry_keys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ids.h"
#include "wlog.h"
#include "xalloc.h"

#define REGISTRY_TOKEN_MAX 4096
#define REGISTRY_RUNTIMES_MAX 1024

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
	if (u.user != NULL || u.query != NULL || u.fragment != NULL) {
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

int
registry_check_base_url(struct registry_at *at)
{
	char *k = registry_key(at->path, "base_url");
	int rc = registry_parse_base_url(at->ctx, k, at->rt);

	free(k);
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
registry_read_auth(struct registry_ctx *ctx, struct json_object *o,
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
	if (tok != NULL)
		explicit_bzero(tok, strlen(tok));
	free(tok);
	free(file);
	free(env);
	free(key);
	return rc;
}

/* Every runtime's token: at most one of token, token_file, token_env. */
int
registry_parse_auth(struct registry_at *at)
{
	return registry_read_auth(at->ctx, at->obj, at->path,
	    &at->reg->secrets->v[at->rt->index]);
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


/* A tls object is present: only https runtimes may have one. */
int
registry_check_tls(struct registry_at *at)
{
	if (at->rt->transport != REGISTRY_TRANSPORT_HTTPS)
		return registry_fail(at->ctx, at->path,
		    "only allowed with an https base_url");
	return 0;
}

/* After the tls keys, present or not: the rules between them, the files
 * readable. */
int
registry_done_tls(struct registry_at *at)
{
	struct registry_runtime *rt = at->rt;
	const char *tpath = at->path;
	char *k = NULL;
	int rc = -1;

	if (rt->tls.client_key != NULL && rt->tls.client_cert == NULL) {
		k = registry_key(tpath, "client_key");
		registry_fail(at->ctx, k, "needs client_cert");
		goto out;
	}
#define REGISTRY_TLS_FILE(field) \
	if (rt->tls.field != NULL) { \
		free(k); \
		k = registry_key(tpath, #field); \
		if (registry_check_readable(at->ctx, k, rt->tls.field) < 0) \
			goto out; \
	}
	REGISTRY_TLS_FILE(ca_file)
	REGISTRY_TLS_FILE(client_cert)
	REGISTRY_TLS_FILE(client_key)
#undef REGISTRY_TLS_FILE
	if (!rt->tls.verify)
		wlog(WLOG_WARN, NULL, rt->id, "%s: %s.verify is false: the "
		    "runtime's certificate is not checked", at->ctx->file, tpath);
	rc = 0;
out:
	free(k);
	return rc;
}

/* The id is valid and not taken by an earlier runtime. */
int
registry_check_id(struct registry_at *at)
{
	const struct registry_runtime *rt = at->rt;
	char *k = registry_key(at->path, "id");
	int rc = -1;

	if (!ids_runtime_id_valid(rt->id)) {
		registry_fail(at->ctx, k, "must be 1 to 64 of [A-Za-z0-9._-]");
		goto out;
	}
	for (size_t j = 0; j < rt->index; j++)
		if (strcmp(at->reg->runtimes[j].id, rt->id) == 0) {
			registry_fail(at->ctx, k, "duplicate id '%s' (also "
			    "runtimes[%zu])", rt->id, j);
			goto out;
		}
	rc = 0;
out:
	free(k);
	return rc;
}

static int
registry_parse_runtime(struct registry_at *top, struct json_object *o,
    size_t i)
{
	char path[64];
	struct registry_at at = { .ctx = top->ctx, .reg = top->reg,
		.rt = &top->reg->runtimes[i], .obj = o, .path = path };

	snprintf(path, sizeof(path), "runtimes[%zu]", i);
	at.rt->index = i;
	if (!json_object_is_type(o, json_type_object))
		return registry_fail(at.ctx, path, "must be an object");
	return registry_keys_parse(&at, REGISTRY_SECT_RUNTIME);
}

int
registry_parse_runtimes(struct registry_at *at)
{
	struct registry_ctx *ctx = at->ctx;
	struct registry *reg = at->reg;
	struct json_object *arr;
	size_t n;
	int r;

	if ((r = registry_get(ctx, at->obj, at->path, "runtimes",
	    json_type_array, &arr)) < 0)
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
		if (registry_parse_runtime(at,
		    json_object_array_get_idx(arr, i), i) < 0)
			return -1;
	}
	if (n == 0)
		wlog(WLOG_WARN, NULL, NULL, "%s: runtimes: no runtimes "
		    "configured", ctx->file);
	return 0;
}

void
registry_tls_copy(struct registry_tls *dst, const struct registry_tls *src)
{
	dst->ca_file = xstrdup(src->ca_file);
	dst->verify = src->verify;
	dst->client_cert = xstrdup(src->client_cert);
	dst->client_key = xstrdup(src->client_key);
}

/* Two optional strings: both NULL, or equal. */
static bool
registry_same_opt(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
registry_tls_same_files(const struct registry_tls *a,
    const struct registry_tls *b)
{
	return registry_same_opt(a->ca_file, b->ca_file) &&
	    registry_same_opt(a->client_cert, b->client_cert) &&
	    registry_same_opt(a->client_key, b->client_key);
}

void
registry_tls_clear(struct registry_tls *t)
{
	free(t->ca_file);
	free(t->client_cert);
	free(t->client_key);
	memset(t, 0, sizeof(*t));
}

bool
registry_same_upstream(const struct registry *a, const struct registry *b,
    const char *id)
{
	const struct registry_runtime *x = registry_find(a, id);
	const struct registry_runtime *y = registry_find(b, id);

	if (x == NULL || y == NULL)
		return false;
	return x->transport == y->transport && x->port == y->port &&
	    registry_same_opt(x->host, y->host) &&
	    registry_same_opt(x->base_path, y->base_path) &&
	    registry_same_opt(x->unix_path, y->unix_path) &&
	    registry_same_opt(registry_token(a, x), registry_token(b, y)) &&
	    x->tls.verify == y->tls.verify &&
	    registry_tls_same_files(&x->tls, &y->tls);
}
