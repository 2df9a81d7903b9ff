/*
 * fuzz_check — the one assertion the fuzz targets use for their
 * invariants. Unlike assert() it never compiles away (NDEBUG), and it
 * names the broken invariant on stderr before aborting, so a crash found
 * by libFuzzer or replayed by driver.c says what went wrong, not only
 * where. fuzz_check.c holds the small input and JSON helpers the targets
 * share.
 */
#ifndef WRG_FUZZ_CHECK_H
#define WRG_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

struct registry;

/* Logging at error level under the name prog, and the registry config
 * conf (owned by the caller, kept for the whole run); a config that does
 * not load fails the run. */
struct registry *fuzz_registry(const char *prog, const char *conf);

/* Splits off the bytes up to the next NUL (or the end) of *p as a new
 * string owned by the caller, and advances past the NUL. */
char *fuzz_take_field(const uint8_t **p, size_t *left);

/* Member key of object o (borrowed), or NULL if o is not an object or
 * has no such member. */
struct json_object *fuzz_member(struct json_object *o, const char *key);

/* As fuzz_member, but only a string member, as its (borrowed) text. */
const char *fuzz_member_str(struct json_object *o, const char *key);

/* Decodes the escaped path piece s[0..n) into out (cap bytes), where
 * only unreserved bytes (A-Z a-z 0-9 . _ ~ -) and %XX may appear, and
 * returns the decoded length. Any other byte, a bad escape or a result
 * longer than cap fails the run, naming what. */
size_t fuzz_decode_segment(const char *s, size_t n, char *out, size_t cap,
    const char *what);

#endif
