/*
 * srt_harness — see srt_harness.h: runtime processes, REST with libcurl,
 * JSON by dotted path, checks, and the runner of REST case tables (the
 * observation socket is srt_ws.c). Everything here is test code: a
 * failed allocation aborts (xalloc), a failed request is a failed check.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "srt_harness.h"
#include "srt_ws.h"
#include "wjson.h"
#include "xalloc.h"

#define MAX_BODY (64u << 20)

static int n_pass, n_fail;
static char scratch[512];
static const char *bin;
static const char *run_name;

void
srt_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s - ", ok ? "ok" : "not ok");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (ok)
		n_pass++;
	else
		n_fail++;
}

long long
srt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
srt_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- */
/* runtime processes                                                  */

/* Starts the runtime with --listen (TCP 127.0.0.1:0 unless unix_path) and
 * the extra args (NULL-terminated); waits ≤10 s for its ready file. */
bool
srt_rt_start(struct srt_rt *rt, const char *name, const char *unix_path,
    ...)
{
	const char *argv[64];
	char listen[700], log[700];
	int argc = 0;
	va_list ap;
	long long deadline;

	memset(rt, 0, sizeof(*rt));
	snprintf(rt->name, sizeof(rt->name), "%s", name);
	snprintf(rt->ready, sizeof(rt->ready), "%s/%s.ready", scratch, name);
	snprintf(log, sizeof(log), "%s/%s.log", scratch, name);
	unlink(rt->ready);
	if (unix_path != NULL) {
		snprintf(rt->unix_path, sizeof(rt->unix_path), "%s",
		    unix_path);
		snprintf(listen, sizeof(listen), "unix:%s", unix_path);
	} else {
		snprintf(listen, sizeof(listen), "127.0.0.1:0");
	}
	argv[argc++] = bin;
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	argv[argc++] = "--ready-file";
	argv[argc++] = rt->ready;
	va_start(ap, unix_path);
	for (;;) {
		const char *a = va_arg(ap, const char *);

		if (a == NULL || argc >= 62)
			break;
		argv[argc++] = a;
	}
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	rt->pid = fork();
	if (rt->pid < 0)
		return false;
	if (rt->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	deadline = srt_now_ms() + 10000;
	while (srt_now_ms() < deadline) {
		FILE *f = fopen(rt->ready, "r");
		int status;

		if (f != NULL) {
			int ok = fscanf(f, "%d", &rt->port);

			fclose(f);
			if (ok == 1)
				return true;
		}
		if (waitpid(rt->pid, &status, WNOHANG) == rt->pid) {
			rt->pid = 0;
			return false;
		}
		srt_sleep_ms(20);
	}
	return false;
}

/* Sends sig and waits ≤5 s for the exit (then SIGKILL). Returns the wait
 * status, or -1. */
int
srt_rt_stop(struct srt_rt *rt, int sig)
{
	long long deadline = srt_now_ms() + 5000;
	int status = -1;

	if (rt->pid <= 0)
		return -1;
	kill(rt->pid, sig);
	while (srt_now_ms() < deadline) {
		if (waitpid(rt->pid, &status, WNOHANG) == rt->pid) {
			rt->pid = 0;
			return status;
		}
		srt_sleep_ms(10);
	}
	kill(rt->pid, SIGKILL);
	waitpid(rt->pid, &status, 0);
	rt->pid = 0;
	return -1;
}

/* ---------------------------------------------------------------- */
/* REST over libcurl                                                  */

static CURL *curl;

static size_t
on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct srt_res *r = arg;
	size_t n = sz * nm;

	if (r->len + n > MAX_BODY) {
		return 0;
	}
	r->body = xrealloc(r->body, r->len + n + 1);
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

void
srt_res_clear(struct srt_res *r)
{
	free(r->body);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

bool
srt_req(struct srt_rt *rt, const char *method, const char *path,
    const char *token, const char *body, size_t body_len,
    const char *extra_hdr, struct srt_res *r)
{
	struct curl_slist *h = NULL;
	char url[1200], auth[600];
	long long t0 = srt_now_ms();
	CURLcode cc;

	srt_res_clear(r);
	curl_easy_reset(curl);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rt->port, path);
	if (rt->unix_path[0] != '\0')
		curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH,
		    rt->unix_path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    token);
		h = curl_slist_append(h, auth);
	}
	if (extra_hdr != NULL)
		h = curl_slist_append(h, extra_hdr);
	if (strcmp(method, "POST") == 0) {
		h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, "Expect:");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body ? body_len : 0));
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	r->ms = srt_now_ms() - t0;
	if (cc != CURLE_OK)
		return false;
	if (r->body != NULL)
		r->json = wjson_parse(r->body, r->len, WJSON_MAX_DEPTH);
	return true;
}

bool
srt_get(struct srt_rt *rt, const char *path, struct srt_res *r)
{
	return srt_req(rt, "GET", path, SRT_TOKEN, NULL, 0, NULL, r);
}

bool
srt_post(struct srt_rt *rt, const char *path, const char *body,
    struct srt_res *r)
{
	return srt_req(rt, "POST", path, SRT_TOKEN, body, body ? strlen(body)
	    : 0,
	    NULL, r);
}

/* curl, not lws, so the refusal's status and body can be read. */
bool
srt_ws_refusal(struct srt_rt *rt, const char *path, const char *token,
    struct srt_res *r)
{
	struct curl_slist *h = NULL;
	char url[700], auth[600];
	CURLcode cc;

	srt_res_clear(r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rt->port, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	curl_easy_reset(curl);
	h = curl_slist_append(h, "Connection: Upgrade");
	h = curl_slist_append(h, "Upgrade: websocket");
	h = curl_slist_append(h, "Sec-WebSocket-Version: 13");
	h = curl_slist_append(h,
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");
	h = curl_slist_append(h, auth);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	if (r->body != NULL)
		r->json = wjson_parse(r->body, r->len, WJSON_MAX_DEPTH);
	return cc == CURLE_OK;
}

struct json_object *
srt_jget(struct json_object *o, const char *path)
{
	char key[128];

	while (o != NULL && *path != '\0') {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		struct json_object *v = NULL;

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (json_object_is_type(o, json_type_array) &&
		    strspn(key, "0123456789") == n && n > 0)
			v = json_object_array_get_idx(o, strtoul(key, NULL,
			    10));
		else if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, key, &v))
			return NULL;
		o = v;
		path += n;
		if (*path == '.')
			path++;
	}
	return o;
}

const char *
srt_jstr(struct json_object *o, const char *path)
{
	struct json_object *v = srt_jget(o, path);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

int64_t
srt_jint(struct json_object *o, const char *path)
{
	struct json_object *v = srt_jget(o, path);

	return json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : INT64_MIN;
}

bool
srt_jhas(struct json_object *o, const char *path)
{
	struct json_object *v = NULL;
	const char *dot = strrchr(path, '.');

	if (dot == NULL)
		return json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, path, &v);
	{
		char parent[256];

		snprintf(parent, sizeof(parent), "%.*s", (int)(dot - path),
		    path);
		o = srt_jget(o, parent);
		return json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, dot + 1, &v);
	}
}

bool
srt_streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* An error answer: status, JSON {"error":{"code":code,"message":...}}. */
bool
srt_is_error(const struct srt_res *r, long status, const char *code)
{
	return r->status == status && srt_streq(srt_jstr(r->json,
	    "error.code"),
	    code) && srt_jstr(r->json, "error.message") != NULL;
}

/* A router miss: status and no JSON body. */
bool
srt_is_plain(const struct srt_res *r, long status)
{
	return r->status == status && r->len == 0;
}

static const char *min_create =
    "{\"intent\":{\"kind\":\"assistant\"},"
    "\"profile\":{\"kind\":\"runtime_default\"}}";

/* Creates a worker, returns its id (static buffer) or "". */
const char *
srt_create_worker(struct srt_rt *rt)
{
	static char id[64];
	struct srt_res r = { 0 };

	id[0] = '\0';
	if (srt_post(rt, "/v1/workers", min_create, &r) && r.status == 200 &&
	    srt_jstr(r.json, "worker.worker_id") != NULL)
		snprintf(id, sizeof(id), "%s",
		    srt_jstr(r.json, "worker.worker_id"));
	srt_res_clear(&r);
	return id;
}

void
srt_new_worker_ws(struct srt_rt *rt, char *w, size_t wsize, char *path,
    size_t psize)
{
	snprintf(w, wsize, "%s", srt_create_worker(rt));
	snprintf(path, psize, "/v1/workers/%s/events/ws", w);
}

int64_t
srt_input(struct srt_rt *rt, const char *id, const char *text)
{
	struct srt_res r = { 0 };
	char path[256], *body;
	struct json_object *o = json_object_new_object();
	int64_t eid = -1;
	size_t blen;

	json_object_object_add(o, "kind", json_object_new_string("user"));
	json_object_object_add(o, "content", json_object_new_string(text));
	body = xstrdup(wjson_str(o, &blen));
	json_object_put(o);
	snprintf(path, sizeof(path), "/v1/workers/%s/input", id);
	if (srt_post(rt, path, body, &r) && r.status == 200)
		eid = srt_jint(r.json, "ack.event_id");
	srt_res_clear(&r);
	free(body);
	return eid;
}

/* ---------------------------------------------------------------- */
/* tables of REST cases                                               */

/* Copies in to out with "$0".."$3" replaced by the saved values. */
static void
subst(const struct srt_vars *vars, const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < len; in++) {
		if (in[0] == '$' && in[1] >= '0' && in[1] < '0' + SRT_VARS) {
			size_t n = strlen(vars->v[in[1] - '0']);

			if (o + n >= len)
				break;
			memcpy(out + o, vars->v[in[1] - '0'], n);
			o += n;
			in++;
			continue;
		}
		out[o++] = *in;
	}
	out[o] = '\0';
}

static bool
jcheck_ok(const struct srt_jcheck *j, struct json_object *root,
    struct srt_vars *vars)
{
	struct json_object *v = srt_jget(root, j->path);
	const char *s = srt_jstr(root, j->path);
	int64_t n = srt_jint(root, j->path);
	char want[256] = "";

	if (j->s != NULL)
		subst(vars, j->s, want, sizeof(want));
	switch (j->op) {
	case SRT_END:
		return true;
	case SRT_STR:
		return srt_streq(s, want);
	case SRT_STR_NE:
		return s != NULL && strcmp(s, want) != 0;
	case SRT_HAS_CHAR:
		return s != NULL && strchr(s, want[0]) != NULL;
	case SRT_INT:
		return n == j->n;
	case SRT_INT_GT:
		return n != INT64_MIN && n > j->n;
	case SRT_LEN:
		return json_object_is_type(v, json_type_array) &&
		    json_object_array_length(v) == (size_t)j->n;
	case SRT_TRUE:
	case SRT_FALSE:
		return json_object_is_type(v, json_type_boolean) &&
		    json_object_get_boolean(v) == (j->op == SRT_TRUE);
	case SRT_NULL:
		return v == NULL && srt_jhas(root, j->path);
	case SRT_SET:
		return v != NULL;
	case SRT_HAS:
		return srt_jhas(root, j->path);
	case SRT_ABSENT:
		return !srt_jhas(root, j->path);
	case SRT_SAVE:
		if (s == NULL || *s == '\0' || j->n < 0 || j->n >= SRT_VARS)
			return false;
		snprintf(vars->v[j->n], sizeof(vars->v[j->n]), "%s", s);
		return true;
	}
	return false;
}

/* The answer against everything the case expects; *why names the first
 * expectation that failed. */
static bool
answer_ok(const struct srt_case *c, const struct srt_res *r,
    struct srt_vars *vars, const char **why)
{
	size_t i;

	*why = "status";
	if (c->error != NULL) {
		*why = "error body";
		if (!srt_is_error(r, c->status, c->error) &&
		    !(c->or_plain && srt_is_plain(r, c->status)))
			return false;
	} else if (c->status != 0 && r->status != c->status) {
		return false;
	}
	*why = "a plain answer";
	if (c->plain && r->len != 0)
		return false;
	*why = "an unparsable body";
	if (c->unparsable && (r->len == 0 || r->json != NULL))
		return false;
	*why = "body length";
	if (r->len < c->min_len)
		return false;
	*why = "duration";
	if (r->ms < c->min_ms || (c->max_ms > 0 && r->ms > c->max_ms))
		return false;
	for (i = 0; i < SRT_MAX_JCHECKS && c->json[i].op != SRT_END; i++) {
		*why = c->json[i].path;
		if (!jcheck_ok(&c->json[i], r->json, vars))
			return false;
	}
	return true;
}

/* Sends the case's request into r; returns whether the answer is as
 * expected, printing a "# ..." line when it is not. */
static bool
case_run(struct srt_rt *rt, struct srt_vars *vars, const struct srt_case *c,
    struct srt_res *r)
{
	const char *token = c->token == NULL ? SRT_TOKEN :
	    *c->token == '\0' ? NULL : c->token;
	const char *why;
	char path[1024], *body = NULL;
	size_t blen = 0;
	bool ok;

	subst(vars, c->path, path, sizeof(path));
	if (c->body != NULL) {
		size_t n = strlen(c->body);

		blen = c->pad_to > n ? c->pad_to : n;
		body = xmalloc(blen + 1);
		memset(body, ' ', blen);
		memcpy(body, c->body, n);
		body[blen] = '\0';
	}
	srt_req(rt, c->method, path, token, body, blen, c->header, r);
	free(body);
	ok = answer_ok(c, r, vars, &why);
	if (!ok)
		printf("# %s %s -> %ld (%zu bytes, %lld ms): not as expected: "
		    "%s\n", c->method, path, r->status, r->len, r->ms, why);
	return ok;
}

void
srt_run(struct srt_rt *rt, struct srt_vars *vars,
    const struct srt_case *cases, size_t n)
{
	struct srt_res r = { 0 };
	size_t i = 0;

	while (i < n) {
		const struct srt_case *c = &cases[i];
		bool ok = true;
		size_t k = 0;

		if (c->group != NULL) {
			for (; i < n && srt_streq(cases[i].group, c->group);
			    i++, k++)
				ok = case_run(rt, vars, &cases[i], &r) && ok;
			srt_check(ok, "%s (%zu cases)", c->group, k);
			continue;
		}
		ok = case_run(rt, vars, c, &r);
		i++;
		if (c->name == NULL)
			continue;
		if (c->min_len > 0)
			srt_check(ok, "%s (%zu bytes)", c->name, r.len);
		else if (c->min_ms > 0 || c->max_ms > 0)
			srt_check(ok, "%s (%lld ms)", c->name, r.ms);
		else
			srt_check(ok, "%s", c->name);
	}
	srt_res_clear(&r);
}

/* ---------------------------------------------------------------- */
/* the run                                                            */

bool
srt_init(const char *name)
{
	const char *bd = getenv("top_builddir");
	static char binbuf[1024];

	run_name = name;
	signal(SIGPIPE, SIG_IGN);
	if (bd == NULL)
		bd = ".";
	snprintf(binbuf, sizeof(binbuf),
	    "%s/tests/sample-runtime/wrg-sample-runtime", bd);
	bin = getenv("SAMPLE_RUNTIME") ? getenv("SAMPLE_RUNTIME") : binbuf;
	snprintf(scratch, sizeof(scratch), "%s/tests/tmp", bd);
	mkdir(scratch, 0755);
	snprintf(scratch, sizeof(scratch), "%s/tests/tmp/%s.%ld", bd, name,
	    (long)getpid());
	if (mkdir(scratch, 0700) != 0) {
		fprintf(stderr, "cannot create %s\n", scratch);
		return false;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	if (curl == NULL || !srt_ws_init()) {
		fprintf(stderr, "cannot init curl / lws\n");
		return false;
	}
	return true;
}

int
srt_finish(void)
{
	srt_ws_finish();
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	printf("%s: %d passed, %d failed\n", run_name, n_pass, n_fail);
	if (n_fail == 0) {
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", scratch);
	} else {
		printf("scratch dir kept: %s\n", scratch);
	}
	return n_fail == 0 ? 0 : 1;
}

const char *
srt_scratch(void)
{
	return scratch;
}
