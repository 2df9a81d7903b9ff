/*
 * srt_harness — the harness of sample_runtime_test: starts and stops
 * wrg-sample-runtime processes, speaks REST to them with libcurl, reads
 * JSON answers by dotted path, counts checks, and runs tables of REST
 * cases (struct srt_case); srt_ws.h is its observation-socket client.
 * Every wait is bounded; every process is stopped by pid.
 *
 * The harness keeps one curl handle, the scratch dir and the pass/fail
 * counters (and srt_ws its lws context) as file statics between
 * srt_init() and srt_finish(): a test program is one process with one
 * harness.
 */
#ifndef SRT_HARNESS_H
#define SRT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#define SRT_TOKEN "s3cret-token"
#define SRT_N(a) (sizeof(a) / sizeof((a)[0]))

/* --- the run ------------------------------------------------------- */

/* Finds the runtime binary ($SAMPLE_RUNTIME or $top_builddir/...), makes
 * the scratch dir, initialises curl and lws. False: the harness cannot
 * run (the caller exits 99). */
bool srt_init(const char *name);

/* Prints "NAME: N passed, N failed", removes the scratch dir when nothing
 * failed, frees curl and lws. Returns the exit status (0 or 1). */
int srt_finish(void);

/* The scratch dir of this run (borrowed). */
const char *srt_scratch(void);

/* Records one check: prints "ok - ..." or "not ok - ...". */
void srt_check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

long long srt_now_ms(void);
void srt_sleep_ms(long ms);

/* --- runtime processes --------------------------------------------- */

struct srt_rt {
	pid_t pid;
	int port;			/* 0 for unix */
	char unix_path[600];		/* "" for TCP */
	char ready[600];
	char name[64];
};

/* Starts the runtime with --listen (TCP 127.0.0.1:0 unless unix_path) and
 * the extra args (NULL-terminated); its output goes to SCRATCH/NAME.log.
 * Waits ≤10 s for its ready file; false if it did not come up. */
bool srt_rt_start(struct srt_rt *rt, const char *name,
    const char *unix_path, ...);

/* Sends sig and waits ≤5 s for the exit (then SIGKILL). Returns the wait
 * status, or -1. */
int srt_rt_stop(struct srt_rt *rt, int sig);

/* --- REST ---------------------------------------------------------- */

struct srt_res {
	long status;
	char *body;			/* owned; NUL-terminated */
	size_t len;
	struct json_object *json;	/* owned; the body parsed, or NULL */
	long long ms;			/* duration */
};

/* One request; r is cleared first and owns what it holds until the next
 * request or srt_res_clear(). token NULL: no Authorization header; body
 * NULL: none (for POST an empty body). extra_hdr: one more header line or
 * NULL. False when curl failed (r->status may still be set). */
bool srt_req(struct srt_rt *rt, const char *method, const char *path,
    const char *token, const char *body, size_t body_len,
    const char *extra_hdr, struct srt_res *r);
/* GET / POST with SRT_TOKEN. */
bool srt_get(struct srt_rt *rt, const char *path, struct srt_res *r);
bool srt_post(struct srt_rt *rt, const char *path, const char *body,
    struct srt_res *r);
/* A WebSocket upgrade request sent with curl (so the refusal's HTTP
 * answer can be read), with "Authorization: Bearer token". TCP only. */
bool srt_ws_refusal(struct srt_rt *rt, const char *path, const char *token,
    struct srt_res *r);
void srt_res_clear(struct srt_res *r);

/* --- JSON by dotted path ("error.code", "workers.0.worker_id": a
 * number indexes an array); all borrowed ---------------------------- */

struct json_object *srt_jget(struct json_object *o, const char *path);
/* The string at path, or NULL when absent or not a string. */
const char *srt_jstr(struct json_object *o, const char *path);
/* The integer at path, or INT64_MIN when absent or not an integer. */
int64_t srt_jint(struct json_object *o, const char *path);
/* True when the last key of path is present (its value may be null). */
bool srt_jhas(struct json_object *o, const char *path);
/* Both non-NULL and equal. */
bool srt_streq(const char *a, const char *b);
/* An error answer: status, {"error":{"code":code,"message":...}}. */
bool srt_is_error(const struct srt_res *r, long status, const char *code);
/* A router miss: status and no body. */
bool srt_is_plain(const struct srt_res *r, long status);

/* --- tables of REST cases ------------------------------------------ */

/* What one JSON check asserts about the value at path. Strings may name
 * saved values: "$1" is vars[1] (see SRT_SAVE). */
enum srt_op {
	SRT_END = 0,
	SRT_STR,	/* a string equal to s */
	SRT_STR_NE,	/* a string not equal to s */
	SRT_HAS_CHAR,	/* a string containing the character s[0] */
	SRT_INT,	/* an integer equal to n */
	SRT_INT_GT,	/* an integer greater than n */
	SRT_LEN,	/* an array of n elements */
	SRT_TRUE,	/* the boolean true */
	SRT_FALSE,	/* the boolean false */
	SRT_NULL,	/* present, null */
	SRT_SET,	/* present, not null */
	SRT_HAS,	/* present, any value */
	SRT_ABSENT,	/* not present */
	SRT_SAVE,	/* a non-empty string, saved as vars[n] */
};

struct srt_jcheck {
	enum srt_op op;
	const char *path;
	const char *s;
	int64_t n;
};

#define J_STR(p, v)	{ SRT_STR, (p), (v), 0 }
#define J_STR_NE(p, v)	{ SRT_STR_NE, (p), (v), 0 }
#define J_HAS_CHAR(p, c) { SRT_HAS_CHAR, (p), (c), 0 }
#define J_INT(p, v)	{ SRT_INT, (p), NULL, (v) }
#define J_INT_GT(p, v)	{ SRT_INT_GT, (p), NULL, (v) }
#define J_LEN(p, v)	{ SRT_LEN, (p), NULL, (v) }
#define J_TRUE(p)	{ SRT_TRUE, (p), NULL, 0 }
#define J_FALSE(p)	{ SRT_FALSE, (p), NULL, 0 }
#define J_NULL(p)	{ SRT_NULL, (p), NULL, 0 }
#define J_SET(p)	{ SRT_SET, (p), NULL, 0 }
#define J_HAS(p)	{ SRT_HAS, (p), NULL, 0 }
#define J_ABSENT(p)	{ SRT_ABSENT, (p), NULL, 0 }
#define J_SAVE(p, i)	{ SRT_SAVE, (p), NULL, (i) }

#define SRT_NO_TOKEN ""		/* srt_case.token: no Authorization */
#define SRT_MAX_JCHECKS 20
#define SRT_VARS 4

/* One request and what its answer must be. A zero field checks nothing. */
struct srt_case {
	const char *name;	/* the check; NULL: a step, not checked */
	const char *group;	/* a run of rows with one group: 1 check */
	const char *method;
	const char *path;	/* "$1" etc. replaced by saved values */
	const char *body;	/* NULL: none */
	size_t pad_to;		/* body padded with spaces to this length */
	const char *token;	/* NULL: SRT_TOKEN; SRT_NO_TOKEN: none */
	const char *header;	/* one more request header line */
	long status;		/* 0: any */
	const char *error;	/* error.code (and a message) */
	bool plain;		/* no body at all */
	bool or_plain;		/* with error: a plain answer passes too */
	bool unparsable;	/* a body that is not JSON */
	size_t min_len;		/* body at least this long */
	long min_ms;		/* answer took at least / at most this */
	long max_ms;
	struct srt_jcheck json[SRT_MAX_JCHECKS];
};

struct srt_vars {
	char v[SRT_VARS][64];
};

/* Runs the cases in order, each once: a row with a name is one check, a
 * run of rows sharing a group is one check (failing rows printed as
 * "# ..."), a row with neither is a step. */
void srt_run(struct srt_rt *rt, struct srt_vars *vars,
    const struct srt_case *cases, size_t n);

/* --- runtime steps -------------------------------------------------- */

/* Creates a minimal worker; returns its id (a static buffer) or "". */
const char *srt_create_worker(struct srt_rt *rt);
/* Creates a minimal worker: its id into w (wsize bytes, "" on failure)
 * and the path of its observation socket into path (psize bytes). */
void srt_new_worker_ws(struct srt_rt *rt, char *w, size_t wsize,
    char *path, size_t psize);
/* Posts a user input; returns the ack's event_id or -1. */
int64_t srt_input(struct srt_rt *rt, const char *id, const char *text);

#endif
