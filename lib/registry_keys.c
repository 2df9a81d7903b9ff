/*
 * registry_keys — the table of registry config keys and the code it
 * drives: the unknown-key check, defaults, typed reads with bounds, and
 * --check-config printing (see registry_keys.h).
 *
 * The table is in --check-config order; a key's pass keeps the order in
 * which errors were reported before the table existed. To add a key: one
 * entry here, its field in registry.h, its paragraph in wrg.conf(5) (the
 * man page test fails until it is there).
 */
#include "registry_keys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define REG(f) offsetof(struct registry, f)
#define RT(f) offsetof(struct registry_runtime, f)
#define GIB (INT64_C(1) << 30)

const struct registry_keydef registry_keys[] = {
	{ .section = REGISTRY_SECT_TOP, .key = "api_prefix",
	    .type = REGISTRY_T_STRING, .max = 128, .def_str = "/api",
	    .offset = REG(api_prefix), .check = registry_check_prefix },
	{ .section = REGISTRY_SECT_TOP, .key = "log_format",
	    .type = REGISTRY_T_CUSTOM, .def_str = "text",
	    .parse = registry_parse_log_format,
	    .print = registry_print_log_format },
	{ .section = REGISTRY_SECT_TOP, .key = "allowed_origins",
	    .type = REGISTRY_T_CUSTOM, .parse = registry_parse_origins,
	    .print = registry_print_origins },
	{ .section = REGISTRY_SECT_TOP, .key = "limits",
	    .type = REGISTRY_T_SECTION, .sub = REGISTRY_SECT_LIMITS },
	{ .section = REGISTRY_SECT_TOP, .key = "fcgi",
	    .type = REGISTRY_T_SECTION, .sub = REGISTRY_SECT_FCGI,
	    .done = registry_check_metrics },
	{ .section = REGISTRY_SECT_TOP, .key = "wsproxy",
	    .type = REGISTRY_T_SECTION, .sub = REGISTRY_SECT_WSPROXY,
	    .done = registry_check_wsproxy },
	{ .section = REGISTRY_SECT_TOP, .key = "runtimes",
	    .type = REGISTRY_T_CUSTOM, .parse = registry_parse_runtimes,
	    .print = registry_print_runtimes },

	{ .section = REGISTRY_SECT_LIMITS, .key = "max_request_body_bytes",
	    .type = REGISTRY_T_SIZE, .min = 64, .max = GIB, .def = 1048576,
	    .offset = REG(max_request_body_bytes) },
	{ .section = REGISTRY_SECT_LIMITS, .key = "max_upstream_body_bytes",
	    .type = REGISTRY_T_SIZE, .min = 1024, .max = GIB, .def = 8388608,
	    .offset = REG(max_upstream_body_bytes) },

	{ .section = REGISTRY_SECT_FCGI, .key = "threads",
	    .type = REGISTRY_T_UINT, .min = 0, .max = 64, .def = 0,
	    .offset = REG(fcgi_threads) },
	/* Off: a browser must not choose the id wrg logs and sends to
	 * runtimes (log forging, correlation spoofing). */
	{ .section = REGISTRY_SECT_FCGI, .key = "trust_request_id",
	    .type = REGISTRY_T_BOOL, .def = false,
	    .offset = REG(fcgi_trust_request_id) },
	{ .section = REGISTRY_SECT_FCGI, .key = "metrics_path",
	    .type = REGISTRY_T_STRING, .max = 128,
	    .offset = REG(fcgi_metrics_path) },
	{ .section = REGISTRY_SECT_FCGI, .key = "metrics_state",
	    .type = REGISTRY_T_STRING, .max = 4000,
	    .def_str = REGISTRY_METRICS_STATE,
	    .offset = REG(fcgi_metrics_state) },

	{ .section = REGISTRY_SECT_WSPROXY, .key = "listen",
	    .type = REGISTRY_T_STRING, .max = 200, .def_str = "127.0.0.1:8792",
	    .offset = REG(wsproxy.listen), .pass = REGISTRY_PASS_FIRST },
	{ .section = REGISTRY_SECT_WSPROXY, .key = "max_connections",
	    .type = REGISTRY_T_UINT, .min = 1, .max = 1000000, .def = 10000,
	    .offset = REG(wsproxy.max_connections) },
	{ .section = REGISTRY_SECT_WSPROXY, .key = "send_queue_max_bytes",
	    .type = REGISTRY_T_SIZE, .min = 4096, .max = GIB, .def = 1048576,
	    .offset = REG(wsproxy.send_queue_max_bytes) },
	{ .section = REGISTRY_SECT_WSPROXY, .key = "ping_interval_s",
	    .type = REGISTRY_T_UINT, .min = 0, .max = 3600, .def = 30,
	    .offset = REG(wsproxy.ping_interval_s) },
	{ .section = REGISTRY_SECT_WSPROXY, .key = "reconnect_initial_ms",
	    .type = REGISTRY_T_UINT, .min = 1, .max = 600000, .def = 250,
	    .offset = REG(wsproxy.reconnect_initial_ms) },
	{ .section = REGISTRY_SECT_WSPROXY, .key = "reconnect_max_ms",
	    .type = REGISTRY_T_UINT, .min = 1, .max = 3600000, .def = 10000,
	    .offset = REG(wsproxy.reconnect_max_ms) },
	{ .section = REGISTRY_SECT_WSPROXY, .key = "feed_linger_ms",
	    .type = REGISTRY_T_UINT, .min = 0, .max = 3600000, .def = 2000,
	    .offset = REG(wsproxy.feed_linger_ms) },
	{ .section = REGISTRY_SECT_WSPROXY, .key = "feed_replay_bytes",
	    .type = REGISTRY_T_SIZE, .min = 0, .max = GIB, .def = 1048576,
	    .offset = REG(wsproxy.feed_replay_bytes) },
	{ .section = REGISTRY_SECT_WSPROXY, .key = "metrics_listen",
	    .type = REGISTRY_T_STRING, .max = 200,
	    .offset = REG(wsproxy.metrics_listen),
	    .pass = REGISTRY_PASS_FIRST },

	{ .section = REGISTRY_SECT_RUNTIME, .key = "id",
	    .type = REGISTRY_T_STRING, .max = REGISTRY_ID_MAX,
	    .offset = RT(id), .flags = REGISTRY_F_REQUIRED,
	    .check = registry_check_id },
	{ .section = REGISTRY_SECT_RUNTIME, .key = "display_name",
	    .type = REGISTRY_T_STRING, .max = 256, .offset = RT(display_name),
	    .flags = REGISTRY_F_NULLABLE },
	{ .section = REGISTRY_SECT_RUNTIME, .key = "base_url",
	    .type = REGISTRY_T_STRING, .max = 2048, .offset = RT(base_url),
	    .flags = REGISTRY_F_REQUIRED, .check = registry_check_base_url,
	    .print = registry_print_base_url },
	/* One handler reads all three token sources (at most one may be
	 * given), after tls. */
	{ .section = REGISTRY_SECT_RUNTIME, .key = "token",
	    .type = REGISTRY_T_CUSTOM, .pass = REGISTRY_PASS_LAST,
	    .parse = registry_parse_auth, .print = registry_print_auth },
	{ .section = REGISTRY_SECT_RUNTIME, .key = "token_file",
	    .type = REGISTRY_T_CUSTOM, .pass = REGISTRY_PASS_LAST },
	{ .section = REGISTRY_SECT_RUNTIME, .key = "token_env",
	    .type = REGISTRY_T_CUSTOM, .pass = REGISTRY_PASS_LAST },
	{ .section = REGISTRY_SECT_RUNTIME, .key = "connect_timeout_ms",
	    .type = REGISTRY_T_LONG, .min = 1, .max = 600000, .def = 2000,
	    .offset = RT(connect_timeout_ms) },
	{ .section = REGISTRY_SECT_RUNTIME, .key = "request_timeout_ms",
	    .type = REGISTRY_T_LONG, .min = 1, .max = 3600000, .def = 10000,
	    .offset = RT(request_timeout_ms) },
	{ .section = REGISTRY_SECT_RUNTIME, .key = "tls",
	    .type = REGISTRY_T_SECTION, .sub = REGISTRY_SECT_TLS,
	    .check = registry_check_tls, .done = registry_done_tls,
	    .print = registry_print_tls },

	{ .section = REGISTRY_SECT_TLS, .key = "ca_file",
	    .type = REGISTRY_T_STRING, .max = 4096, .offset = RT(tls.ca_file) },
	{ .section = REGISTRY_SECT_TLS, .key = "verify",
	    .type = REGISTRY_T_BOOL, .def = true, .offset = RT(tls.verify) },
	{ .section = REGISTRY_SECT_TLS, .key = "client_cert",
	    .type = REGISTRY_T_STRING, .max = 4096,
	    .offset = RT(tls.client_cert) },
	{ .section = REGISTRY_SECT_TLS, .key = "client_key",
	    .type = REGISTRY_T_STRING, .max = 4096,
	    .offset = RT(tls.client_key) },
};

const size_t registry_key_count = sizeof(registry_keys) /
    sizeof(registry_keys[0]);

const char *
registry_keys_section_path(enum registry_sect s)
{
	static const char *const paths[REGISTRY_SECT_COUNT] = {
		[REGISTRY_SECT_TOP] = "", [REGISTRY_SECT_LIMITS] = "limits",
		[REGISTRY_SECT_FCGI] = "fcgi",
		[REGISTRY_SECT_WSPROXY] = "wsproxy",
		[REGISTRY_SECT_RUNTIME] = "runtimes",
		[REGISTRY_SECT_TLS] = "runtimes.tls",
	};

	return paths[s];
}

bool
registry_keys_per_runtime(enum registry_sect s)
{
	return s == REGISTRY_SECT_RUNTIME || s == REGISTRY_SECT_TLS;
}

/* ---- errors and typed getters ------------------------------------------ */

int
registry_fail(struct registry_ctx *ctx, const char *key, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	if (ctx->err != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ctx->err = key != NULL && *key ?
	    xasprintf("%s: %s: %s", ctx->file, key, reason) :
	    xasprintf("%s: %s", ctx->file, reason);
	return -1;
}

char *
registry_key(const char *parent, const char *key)
{
	return *parent ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

int
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
	/* obj NULL: the enclosing section is absent, so is the key. */
	if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
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

int
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
registry_get_int(struct registry_ctx *ctx, struct json_object *obj,
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

/* ---- table-driven parsing ---------------------------------------------- */

static void *
registry_keys_field(const struct registry_keydef *k, struct registry *reg,
    struct registry_runtime *rt)
{
	return (registry_keys_per_runtime(k->section) ? (char *)rt :
	    (char *)reg) + k->offset;
}

static const struct registry_keydef *
registry_keys_find(enum registry_sect s, const char *key)
{
	for (size_t i = 0; i < registry_key_count; i++)
		if (registry_keys[i].section == s &&
		    strcmp(registry_keys[i].key, key) == 0)
			return &registry_keys[i];
	return NULL;
}

static int
registry_keys_unknown(struct registry_at *at, enum registry_sect s)
{
	json_object_object_foreach(at->obj, key, val) {
		(void)val;
		if (registry_keys_find(s, key) == NULL) {
			char *k = registry_key(at->path, key);

			registry_fail(at->ctx, k, "unknown key");
			free(k);
			return -1;
		}
	}
	return 0;
}

static int
registry_keys_string(struct registry_at *at, const struct registry_keydef *k,
    char **field)
{
	struct json_object *v;
	int r;

	if ((k->flags & REGISTRY_F_NULLABLE) && at->obj != NULL &&
	    json_object_object_get_ex(at->obj, k->key, &v) && v == NULL)
		return 0;	/* explicit null: the default */
	r = registry_get_string(at->ctx, at->obj, at->path, k->key,
	    (size_t)k->max, field);
	if (r == 0 && (k->flags & REGISTRY_F_REQUIRED)) {
		char *key = registry_key(at->path, k->key);

		registry_fail(at->ctx, key, "is required");
		free(key);
		return -1;
	}
	if (r == 0 && k->def_str != NULL)
		*field = xstrdup(k->def_str);
	return r;
}

static int
registry_keys_section(struct registry_at *at, const struct registry_keydef *k)
{
	struct registry_at sub = *at;
	int r, rc = -1;

	r = registry_get(at->ctx, at->obj, at->path, k->key, json_type_object,
	    &sub.obj);
	sub.path = registry_key(at->path, k->key);
	if (r < 0 || (r > 0 && k->check != NULL && k->check(&sub) < 0) ||
	    registry_keys_parse(&sub, k->sub) < 0 ||
	    (k->done != NULL && k->done(&sub) < 0))
		goto out;
	rc = 0;
out:
	free((char *)sub.path);
	return rc;
}

/* Reads one key into its field; absent: its default. Returns 1 present,
 * 0 absent, -1 error. */
static int
registry_keys_scalar(struct registry_at *at, const struct registry_keydef *k)
{
	void *f = registry_keys_field(k, at->reg, at->rt);
	struct json_object *v;
	int64_t n = k->def;
	int r;

	switch (k->type) {
	case REGISTRY_T_STRING:
		return registry_keys_string(at, k, f);
	case REGISTRY_T_BOOL:
		r = registry_get(at->ctx, at->obj, at->path, k->key,
		    json_type_boolean, &v);
		*(bool *)f = r > 0 ? json_object_get_boolean(v) : k->def != 0;
		return r;
	default:
		break;
	}
	if ((r = registry_get_int(at->ctx, at->obj, at->path, k->key, k->min,
	    k->max, &n)) < 0)
		return -1;
	if (k->type == REGISTRY_T_UINT)
		*(unsigned *)f = (unsigned)n;
	else if (k->type == REGISTRY_T_SIZE)
		*(size_t *)f = (size_t)n;
	else
		*(long *)f = (long)n;
	return r;
}

static int
registry_keys_one(struct registry_at *at, const struct registry_keydef *k)
{
	int r;

	if (k->type == REGISTRY_T_CUSTOM)
		return k->parse != NULL ? k->parse(at) : 0;
	if (k->type == REGISTRY_T_SECTION)
		return registry_keys_section(at, k);
	if ((r = registry_keys_scalar(at, k)) < 0)
		return -1;
	return r > 0 && k->check != NULL ? k->check(at) : 0;
}

int
registry_keys_parse(struct registry_at *at, enum registry_sect s)
{
	static const enum registry_pass passes[] = { REGISTRY_PASS_FIRST,
		REGISTRY_PASS_MAIN, REGISTRY_PASS_LAST };

	if (at->obj != NULL && registry_keys_unknown(at, s) < 0)
		return -1;
	for (size_t p = 0; p < sizeof(passes) / sizeof(passes[0]); p++)
		for (size_t i = 0; i < registry_key_count; i++) {
			const struct registry_keydef *k = &registry_keys[i];

			if (k->section == s && k->pass == passes[p] &&
			    registry_keys_one(at, k) < 0)
				return -1;
		}
	return 0;
}

/* ---- table-driven printing --------------------------------------------- */

static struct json_object *
registry_keys_value(const struct registry_keydef *k, const void *f)
{
	switch (k->type) {
	case REGISTRY_T_STRING:
		return *(char *const *)f != NULL ?
		    json_object_new_string(*(char *const *)f) : NULL;
	case REGISTRY_T_UINT:
		return json_object_new_int64(*(const unsigned *)f);
	case REGISTRY_T_SIZE:
		return json_object_new_int64((int64_t)*(const size_t *)f);
	case REGISTRY_T_LONG:
		return json_object_new_int64(*(const long *)f);
	default:
		return json_object_new_boolean(*(const bool *)f);
	}
}

void
registry_keys_print(const struct registry *reg,
    const struct registry_runtime *rt, enum registry_sect s,
    struct json_object *out)
{
	for (size_t i = 0; i < registry_key_count; i++) {
		const struct registry_keydef *k = &registry_keys[i];
		struct json_object *o;

		if (k->section != s)
			continue;
		if (k->print != NULL || k->type == REGISTRY_T_CUSTOM) {
			if (k->print != NULL)
				k->print(reg, rt, out);
			continue;
		}
		if (k->type == REGISTRY_T_SECTION) {
			o = json_object_new_object();
			registry_keys_print(reg, rt, k->sub, o);
		} else
			o = registry_keys_value(k, registry_keys_field(k,
			    (struct registry *)reg,
			    (struct registry_runtime *)rt));
		json_object_object_add(out, k->key, o);
	}
}
