/*
 * wjson — the strict JSON reading and compact writing that every
 * network-facing part of wrg uses, over json-c. json-c's defaults are too
 * lenient for bytes from browsers and runtimes (comments, trailing garbage,
 * invalid UTF-8, NaN); this module closes those holes in one place.
 */
#ifndef WRG_WJSON_H
#define WRG_WJSON_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define WJSON_MAX_DEPTH 64

/* Parses exactly one JSON value from buf[0..len): strict syntax, valid
 * UTF-8, nesting at most max_depth, only whitespace after the value, no
 * NaN/Infinity, no integer outside the int64/uint64 range (json-c would
 * saturate it). Returns a new reference owned by the caller, or NULL. */
struct json_object *wjson_parse(const char *buf, size_t len, int max_depth);

/* As wjson_parse but also allows // and slash-star comments (the config file).
 * On failure returns NULL and, if errbuf is non-NULL, writes "line N:
 * reason" into it. */
struct json_object *wjson_parse_config(const char *buf, size_t len,
    char *errbuf, size_t errlen);

/* An upper estimate, in bytes, of the memory json-c (0.16, x86_64 glibc)
 * takes for the tree of the JSON text buf[0..len): a linear scan of the
 * structural bytes outside strings, with no allocation, meant to refuse
 * a document before json-c builds it. Not a validator: it assumes valid
 * JSON and never undercounts what json-c would build from it (garbage
 * may be overcounted; wjson_parse refuses it anyway). The per-token
 * figures are in wjson.c and docs/fcgi.md. */
size_t wjson_cost(const char *buf, size_t len);

/* A tokener for wjson_parse_with: wjson_parse's rules (strict, UTF-8
 * checked, at most max_depth deep); free with json_tokener_free. NULL
 * when out of memory. */
struct json_tokener *wjson_tokener_new(int max_depth);

/* wjson_parse with a tokener kept by the caller: a stream parsing one
 * message after another saves the tokener's allocations each time. */
struct json_object *wjson_parse_with(struct json_tokener *tok,
    const char *buf, size_t len);

/* wjson_cost(buf, len) <= budget, without the scan when len bytes could
 * not cost more than budget (no byte costs more than an object): the
 * common small document is not read twice. */
bool wjson_cost_within(const char *buf, size_t len, size_t budget);

/* The parse budget for a document of at most cap bytes: what wjson_cost
 * may say before it is refused unparsed. WJSON_COST_FACTOR x cap
 * (saturating), and never less than floor. wrg.fcgi's runtime answers use
 * floor 0 (docs/fcgi.md, "Memory per request"); browser bodies and
 * wrg-wsproxy's runtime frames use WJSON_COST_FLOOR, so a small cap still
 * admits every real document (they cost ~20-25 times their bytes). */
#define WJSON_COST_FACTOR 8
#define WJSON_COST_FLOOR (1024 * 1024)
size_t wjson_cost_budget(size_t cap, size_t floor);

/* Compact serialization (no spaces, '/' unescaped). The string is owned
 * by obj and lives until obj is freed or changed. */
const char *wjson_str(struct json_object *obj, size_t *len);

/* Borrowed string member of obj, or NULL if absent / not a string. */
const char *wjson_get_string(struct json_object *obj, const char *key);

#endif
