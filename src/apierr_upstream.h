/*
 * apierr_upstream — wrg.fcgi's half of the apierr module: the one mapping
 * from an upstream outcome (curl result, runtime HTTP status and error
 * body) to the browser error table of lib/apierr.h, and the scrubbing
 * of the only runtime text that is ever passed to a browser (a
 * runtime_rejected code and message, a runtime's own display name).
 *
 * Nothing a browser gets from here comes from libcurl's error buffer or a runtime's
 * 5xx message: those go to the log only.
 */
#ifndef WRG_APIERR_UPSTREAM_H
#define WRG_APIERR_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "apierr.h"
#include "registry.h"
#include "upstream.h"
#include "wjson.h"

/* The parse budget of one runtime answer: at most this many bytes of
 * json-c memory, as estimated by wjson_cost before parsing, i.e.
 * APIERR_PARSE_FACTOR x limits.max_upstream_body_bytes. The cap on bytes
 * alone does not bound memory: json-c spends ~70 bytes on a "0" and ~800
 * on a "{}", so 1 MiB of "{}," would be a quarter of a GiB. See
 * docs/fcgi.md, "Memory per request". */
#define APIERR_PARSE_FACTOR WJSON_COST_FACTOR
size_t apierr_parse_budget(const struct registry *reg);

/* What a runtime's answer body turned out to be. */
enum apierr_body {
	APIERR_BODY_JSON = 0,	/* parsed */
	APIERR_BODY_EMPTY,	/* no body */
	APIERR_BODY_NOT_JSON,	/* not (strict) JSON */
	APIERR_BODY_TOO_COSTLY	/* over the parse budget: not parsed */
};

/* Parses the answer of call c once, within the parse budget. Sets *root
 * to a new reference owned by the caller for APIERR_BODY_JSON, else to
 * NULL. Logs nothing (the caller knows what the body was for). */
enum apierr_body apierr_parse_body(const struct registry *reg,
    const struct upstream_call *c, struct json_object **root);

/* Classification of one upstream answer. */
struct apierr_upstream {
	enum apierr err;	/* APIERR_OK: a 2xx answer with a body */
	int status;		/* browser status for err (400/409 rejections) */
	/* runtime_rejected only: the runtime's code and its message, both
	 * scrubbed (a code passes only as [a-z0-9_.]{1,64} that also passes
	 * apierr_scrub, else "unknown"); owned by this struct. */
	char *runtime_code;
	char *message;
	/* true when the runtime answered a plain router miss (404/405
	 * without an error body): the operation is unsupported. */
	bool unsupported;
};

/* Maps the outcome of call c (finished by upstream_perform) for runtime
 * rt to a browser error. For 2xx answers err is APIERR_OK (the caller
 * parses the body with apierr_parse_body and checks its shape); other
 * answers' bodies are parsed here, once, within the parse budget (a body
 * over it is runtime_bad_response, or runtime_error for a 5xx). Logs the operator detail (curl text, the
 * runtime's 5xx message) at WARN with request_id. Free the strings with
 * apierr_upstream_clear. */
void apierr_upstream(const struct registry *reg,
    const struct registry_runtime *rt, const struct upstream_call *c,
    const char *request_id, struct apierr_upstream *out);

/* Frees the strings of u; u itself is the caller's. */
void apierr_upstream_clear(struct apierr_upstream *u);

/* Returns a malloc'd copy of a runtime's rejection message if it is safe
 * to show a browser, else NULL. Refused: longer than 300 bytes, control
 * bytes, anything URL-like ("://", "unix:", "/v1/"), and any runtime's
 * host, base URL, base path, Unix socket path, port digits or token. */
char *apierr_scrub(const struct registry *reg, const char *msg);

#endif
