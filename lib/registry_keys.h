/*
 * registry_keys — the one table of registry config keys (internal to the
 * registry module: registry.c, registry_runtime.c, registry_print.c).
 *
 * Each key is listed once with its section, type, range, default and the
 * offset of its field; that entry drives the unknown-key check, defaults,
 * parsing with bounds and --check-config printing. Keys that need more
 * (URLs, listen strings, tokens, lists) name small handlers here; the
 * table still lists them, so the unknown-key check and the man page test
 * (tests/unit/test_registry_man.c) see every key.
 */
#ifndef WRG_REGISTRY_KEYS_H
#define WRG_REGISTRY_KEYS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"

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

/* Where a handler works: the registry, the runtime (runtime and tls
 * sections only, else NULL), the section's JSON object (NULL when the
 * section is absent) and its path for messages ("", "wsproxy",
 * "runtimes[2].tls"). */
struct registry_at {
	struct registry_ctx *ctx;
	struct registry *reg;
	struct registry_runtime *rt;
	struct json_object *obj;
	const char *path;
};

enum registry_sect {
	REGISTRY_SECT_TOP = 0,
	REGISTRY_SECT_LIMITS,
	REGISTRY_SECT_FCGI,
	REGISTRY_SECT_WSPROXY,
	REGISTRY_SECT_RUNTIME,	/* each element of runtimes */
	REGISTRY_SECT_TLS,	/* runtimes[i].tls */
	REGISTRY_SECT_COUNT
};

enum registry_type {
	REGISTRY_T_STRING,	/* char *, 1 to max bytes; def_str */
	REGISTRY_T_UINT,	/* unsigned, min..max; def */
	REGISTRY_T_SIZE,	/* size_t, min..max; def */
	REGISTRY_T_LONG,	/* long, min..max; def */
	REGISTRY_T_BOOL,	/* bool; def */
	REGISTRY_T_SECTION,	/* object holding the keys of section sub */
	REGISTRY_T_CUSTOM	/* parse and print handlers do it all */
};

/* Keys of a section are read in three passes, in table order within a
 * pass; the passes keep the order in which errors have always been
 * reported where it differs from the printed order. */
enum registry_pass {
	REGISTRY_PASS_MAIN = 0,
	REGISTRY_PASS_FIRST,
	REGISTRY_PASS_LAST
};

#define REGISTRY_F_REQUIRED	0x1	/* absent: "is required" */
#define REGISTRY_F_NULLABLE	0x2	/* explicit null: left at default */

struct registry_keydef {
	enum registry_sect section;
	const char *key;
	enum registry_type type;
	int64_t min, max;	/* integers: the range; strings: max length */
	int64_t def;		/* integers and booleans */
	const char *def_str;	/* strings; NULL: none (custom keys: the
				 * documented default, for the man test) */
	size_t offset;		/* of the field in struct registry (or
				 * struct registry_runtime for runtime and
				 * tls keys); unused for custom keys */
	enum registry_sect sub;	/* REGISTRY_T_SECTION: its keys */
	enum registry_pass pass;
	unsigned flags;
	/* Custom keys: reads the key (parse NULL: a sibling's handler
	 * does). Returns 0 or -1 after registry_fail. */
	int (*parse)(struct registry_at *at);
	/* When the key is present, after its value is checked and stored
	 * (sections: before their keys are read). */
	int (*check)(struct registry_at *at);
	/* Sections: after their keys, whether present or not. */
	int (*done)(struct registry_at *at);
	/* Adds the key's printed form to out; NULL for custom keys: none. */
	void (*print)(const struct registry *reg,
	    const struct registry_runtime *rt, struct json_object *out);
};

/* The table, in --check-config order, and its length. */
extern const struct registry_keydef registry_keys[];
extern const size_t registry_key_count;

/* The dotted path of a section as the man page nests it ("",
 * "limits", "runtimes", "runtimes.tls"). */
const char *registry_keys_section_path(enum registry_sect s);

/* Whether a section's fields are in struct registry_runtime. */
bool registry_keys_per_runtime(enum registry_sect s);

/* Reads section s from at->obj (NULL: absent, defaults only) into
 * at->reg or at->rt: unknown keys, defaults, every key, done hooks of
 * its sub-sections. Returns 0 or -1 with the error in at->ctx. */
int registry_keys_parse(struct registry_at *at, enum registry_sect s);

/* Adds every printed key of section s of reg (or rt) to out. */
void registry_keys_print(const struct registry *reg,
    const struct registry_runtime *rt, enum registry_sect s,
    struct json_object *out);

/* Records the first error as "FILE: key: reason" (key NULL or "": no
 * key part). Always returns -1. */
int registry_fail(struct registry_ctx *ctx, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "parent.key", or key when parent is "": malloc'd. */
char *registry_key(const char *parent, const char *key);

/* Key of obj as type: 1 present (*out borrowed), 0 absent, -1 wrong
 * type (error recorded). */
int registry_get(struct registry_ctx *ctx, struct json_object *obj,
    const char *path, const char *key, enum json_type type,
    struct json_object **out);

/* A string of 1 to maxlen bytes, copied into *out (caller owns); returns
 * as registry_get. */
int registry_get_string(struct registry_ctx *ctx, struct json_object *obj,
    const char *path, const char *key, size_t maxlen, char **out);

/* An http(s) URL split by libcurl: scheme, host, port (explicit or the
 * scheme's) and path always; user, query, fragment when present. */
struct registry_url {
	char *scheme, *host, *port, *path, *user, *query, *fragment;
};

/* Parses s into *u (its parts owned by u). Returns 0, or -1 with u
 * empty. */
int registry_url_parse(const char *s, struct registry_url *u);

/* Frees u's parts and empties it. */
void registry_url_free(struct registry_url *u);

/* Handlers named by the table (registry.c, registry_runtime.c,
 * registry_print.c). */
int registry_check_prefix(struct registry_at *at);
int registry_parse_log_format(struct registry_at *at);
int registry_parse_origins(struct registry_at *at);
int registry_check_metrics(struct registry_at *at);
int registry_check_wsproxy(struct registry_at *at);
int registry_parse_runtimes(struct registry_at *at);
int registry_check_id(struct registry_at *at);
int registry_check_base_url(struct registry_at *at);
int registry_parse_auth(struct registry_at *at);
int registry_check_tls(struct registry_at *at);
int registry_done_tls(struct registry_at *at);
void registry_print_log_format(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out);
void registry_print_origins(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out);
void registry_print_runtimes(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out);
void registry_print_base_url(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out);
void registry_print_auth(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out);
void registry_print_tls(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out);

#endif
