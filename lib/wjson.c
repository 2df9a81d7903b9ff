/*
 * wjson — strict JSON in, compact JSON out (see wjson.h). json-c does the
 * parsing; this file only sets the strict flags and checks the few things
 * json-c lets through: trailing bytes, NaN/Infinity.
 */
#include "wjson.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* json-c accepts NaN/Infinity even in strict mode and would then write
 * them out as invalid JSON; and it saturates integers beyond the 64-bit
 * range to UINT64_MAX / INT64_MIN, which would silently change a number
 * passed through. Reject both anywhere in the tree. */
static int
wjson_finite(struct json_object *obj, int depth)
{
	if (depth > WJSON_MAX_DEPTH * 2)
		return 0;
	switch (json_object_get_type(obj)) {
	case json_type_double:
		return isfinite(json_object_get_double(obj));
	case json_type_int:
		return json_object_get_uint64(obj) != UINT64_MAX &&
		    json_object_get_int64(obj) != INT64_MIN;
	case json_type_object: {
		json_object_object_foreach(obj, key, val) {
			(void)key;
			if (val != NULL && !wjson_finite(val, depth + 1))
				return 0;
		}
		return 1;
	}
	case json_type_array: {
		size_t n = json_object_array_length(obj);

		for (size_t i = 0; i < n; i++) {
			struct json_object *v = json_object_array_get_idx(obj, i);

			if (v != NULL && !wjson_finite(v, depth + 1))
				return 0;
		}
		return 1;
	}
	default:
		return 1;
	}
}

static int
wjson_only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return 0;
	return 1;
}

/* One whole document buf[0..len) with tok (set up, at its start). */
static struct json_object *
wjson_parse_on(struct json_tokener *tok, const char *buf, size_t len,
    char *errbuf, size_t errlen)
{
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end;

	if (errbuf != NULL && errlen)
		errbuf[0] = '\0';
	if (len > (size_t)INT32_MAX) {
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "document too large");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* Input ended inside a value: flush with a final empty chunk
		 * so numbers at end of input complete, then re-check. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	if (obj == NULL || jerr != json_tokener_success) {
		if (errbuf != NULL) {
			size_t off = json_tokener_get_parse_end(tok), line = 1;

			for (size_t i = 0; i < off && i < len; i++)
				if (buf[i] == '\n')
					line++;
			snprintf(errbuf, errlen, "line %zu: %s", line,
			    jerr == json_tokener_success ? "empty document" :
			    json_tokener_error_desc(jerr));
		}
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	if (end < len && !wjson_only_space(buf + end, len - end)) {
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "trailing data after the document");
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	if (!wjson_finite(obj, 0)) {
		if (errbuf != NULL)
			snprintf(errbuf, errlen,
			    "NaN, Infinity or an integer beyond 64 bits");
		json_object_put(obj);
		obj = NULL;
	}
out:
	return obj;
}

static struct json_object *
wjson_parse_flags(const char *buf, size_t len, int max_depth, int flags,
    int allow_comments, char *errbuf, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new_ex(max_depth);
	struct json_object *obj;

	(void)allow_comments;
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, flags);
	obj = wjson_parse_on(tok, buf, len, errbuf, errlen);
	json_tokener_free(tok);
	return obj;
}

struct json_tokener *
wjson_tokener_new(int max_depth)
{
	struct json_tokener *tok = json_tokener_new_ex(max_depth);

	if (tok != NULL)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
		    JSON_TOKENER_VALIDATE_UTF8);
	return tok;
}

struct json_object *
wjson_parse_with(struct json_tokener *tok, const char *buf, size_t len)
{
	json_tokener_reset(tok);
	return wjson_parse_on(tok, buf, len, NULL, 0);
}

/* What one token costs in a json-c 0.16 tree, as peak RSS on x86_64
 * glibc, measured on 1 MiB documents of that token alone (rounded up):
 * an object ~790 B (a 16-entry hash table from the start), an array
 * 150 B, up to ~270 B when arrays nest, a member name ~64 B more than a
 * string, a string ~88 B plus its bytes, a number or literal 72 B (a
 * double ~104 B). */
#define WJSON_COST_OBJECT 800
#define WJSON_COST_ARRAY 288
#define WJSON_COST_MEMBER 64
#define WJSON_COST_STRING 96
#define WJSON_COST_SCALAR 112

size_t
wjson_cost(const char *buf, size_t len)
{
	size_t cost = 0;
	char prev = '\0';	/* the last byte outside strings and space */

	/* No byte adds more than an object does: the sum cannot wrap. */
	if (len > SIZE_MAX / WJSON_COST_OBJECT)
		return SIZE_MAX;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		switch (c) {
		case '"':
			/* A string: its bytes, an escape counted once. */
			cost += WJSON_COST_STRING;
			for (i++; i < len && buf[i] != '"'; i++) {
				if (buf[i] == '\\')
					i++;
				cost++;
			}
			prev = '"';
			continue;
		case ' ': case '\t': case '\r': case '\n':
			continue;
		case '{':
			cost += WJSON_COST_OBJECT;
			break;
		case '[':
			cost += WJSON_COST_ARRAY;
			break;
		case ':':
			cost += WJSON_COST_MEMBER;
			break;
		case ',': case ']': case '}':
			break;
		default:
			/* A number or literal (NaN too: json-c builds it
			 * before wjson_parse refuses it) begins where a
			 * value may. */
			if (prev == '\0' || prev == ',' || prev == '[' ||
			    prev == ':')
				cost += WJSON_COST_SCALAR;
			break;
		}
		prev = c;
	}
	return cost;
}

bool
wjson_cost_within(const char *buf, size_t len, size_t budget)
{
	if (len <= budget / WJSON_COST_OBJECT)
		return true;
	return wjson_cost(buf, len) <= budget;
}

struct json_object *
wjson_parse(const char *buf, size_t len, int max_depth)
{
	return wjson_parse_flags(buf, len, max_depth,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8, 0, NULL, 0);
}

struct json_object *
wjson_parse_config(const char *buf, size_t len, char *errbuf, size_t errlen)
{
	/* Non-strict mode is what allows comments; trailing data is still
	 * refused by the check above. */
	return wjson_parse_flags(buf, len, WJSON_MAX_DEPTH,
	    JSON_TOKENER_VALIDATE_UTF8, 1, errbuf, errlen);
}

const char *
wjson_str(struct json_object *obj, size_t *len)
{
	const char *s;

	s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
	return s;
}

const char *
wjson_get_string(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

size_t
wjson_cost_budget(size_t cap, size_t floor)
{
	size_t b = cap > SIZE_MAX / WJSON_COST_FACTOR ? SIZE_MAX :
	    cap * WJSON_COST_FACTOR;

	return b < floor ? floor : b;
}
