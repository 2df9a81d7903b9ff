/*
 * sample_runtime_test — integration test of wrg-sample-runtime against
 * ../shared/contracts/runtime-api.md and docs/sample-runtime.md. It starts
 * real runtime processes (TCP on 127.0.0.1 and a Unix socket in a scratch
 * dir), talks to them only over the wire — REST with libcurl, the
 * observation socket with an lws client — and stops every process it
 * started by pid. Every wait is bounded. Last line:
 * "sample_runtime_test: N passed, N failed"; exit 0 only if none failed.
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
#include <libwebsockets.h>

#include "wjson.h"
#include "xalloc.h"

#define TOKEN "s3cret-token"
#define MAX_BODY (64u << 20)
#define MAX_FRAME (16u << 20)
#define MAX_FRAMES 20000

static int n_pass, n_fail;
static char scratch[512];
static const char *bin;

static void
check(bool ok, const char *fmt, ...)
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

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- */
/* runtime processes                                                  */

struct rt {
	pid_t pid;
	int port;			/* 0 for unix */
	char unix_path[600];		/* "" for TCP */
	char ready[600];
	char name[64];
};

/* Starts the runtime with --listen (TCP 127.0.0.1:0 unless unix_path) and
 * the extra args (NULL-terminated); waits ≤10 s for its ready file. */
static bool
rt_start(struct rt *rt, const char *name, const char *unix_path, ...)
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
	deadline = now_ms() + 10000;
	while (now_ms() < deadline) {
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
		sleep_ms(20);
	}
	return false;
}

/* Sends sig and waits ≤5 s for the exit (then SIGKILL). Returns the wait
 * status, or -1. */
static int
rt_stop(struct rt *rt, int sig)
{
	long long deadline = now_ms() + 5000;
	int status = -1;

	if (rt->pid <= 0)
		return -1;
	kill(rt->pid, sig);
	while (now_ms() < deadline) {
		if (waitpid(rt->pid, &status, WNOHANG) == rt->pid) {
			rt->pid = 0;
			return status;
		}
		sleep_ms(10);
	}
	kill(rt->pid, SIGKILL);
	waitpid(rt->pid, &status, 0);
	rt->pid = 0;
	return -1;
}

/* ---------------------------------------------------------------- */
/* REST over libcurl                                                  */

struct res {
	long status;
	char *body;
	size_t len;
	bool too_big;
	struct json_object *json;	/* strict parse of body, or NULL */
	long long ms;			/* duration */
};

static CURL *curl;

static size_t
on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct res *r = arg;
	size_t n = sz * nm;

	if (r->len + n > MAX_BODY) {
		r->too_big = true;
		return 0;
	}
	r->body = xrealloc(r->body, r->len + n + 1);
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static void
res_clear(struct res *r)
{
	free(r->body);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

/* One request. token NULL = no Authorization header; body NULL = none
 * (for POST: an empty body). extra_hdr: one more header line or NULL. */
static bool
req(struct rt *rt, const char *method, const char *path, const char *token,
    const char *body, size_t body_len, const char *extra_hdr, struct res *r)
{
	struct curl_slist *h = NULL;
	char url[1200], auth[600];
	long long t0 = now_ms();
	CURLcode cc;

	res_clear(r);
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
	r->ms = now_ms() - t0;
	if (cc != CURLE_OK)
		return false;
	if (r->body != NULL)
		r->json = wjson_parse(r->body, r->len, WJSON_MAX_DEPTH);
	return true;
}

static bool
get(struct rt *rt, const char *path, struct res *r)
{
	return req(rt, "GET", path, TOKEN, NULL, 0, NULL, r);
}

static bool
post(struct rt *rt, const char *path, const char *body, struct res *r)
{
	return req(rt, "POST", path, TOKEN, body, body ? strlen(body) : 0,
	    NULL, r);
}

/* Member lookup by a dotted path ("error.code"); borrowed. */
static struct json_object *
jget(struct json_object *o, const char *path)
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
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, key, &v))
			return NULL;
		o = v;
		path += n;
		if (*path == '.')
			path++;
	}
	return o;
}

static const char *
jstr(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static int64_t
jint(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : INT64_MIN;
}

static bool
jhas(struct json_object *o, const char *path)
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
		o = jget(o, parent);
		return json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, dot + 1, &v);
	}
}

static bool
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* An error answer: status, JSON {"error":{"code":code,"message":...}}. */
static bool
is_error(const struct res *r, long status, const char *code)
{
	return r->status == status && streq(jstr(r->json, "error.code"),
	    code) && jstr(r->json, "error.message") != NULL;
}

/* A router miss: status and no JSON body. */
static bool
is_plain(const struct res *r, long status)
{
	return r->status == status && r->len == 0;
}

/* ---------------------------------------------------------------- */
/* WebSocket client over lws                                          */

enum wsc_state { WSC_CONNECTING, WSC_OPEN, WSC_FAILED, WSC_CLOSED };

struct wsc {
	struct lws *wsi;
	enum wsc_state state;
	const char *token;
	char *frames[MAX_FRAMES];
	size_t n_frames;
	char *rx;
	size_t rx_len;
	int close_code;			/* 0: no close frame seen */
	int pongs;
	char *to_send;
	bool want_ping;
	bool want_close;
};

static struct lws_context *cctx;
static lws_sorted_usec_list_t wake_sul;

/* Keeps lws_service() returning every few ms so waits stay bounded. */
static void
wake(lws_sorted_usec_list_t *sul)
{
	lws_sul_schedule(cctx, 0, sul, wake, 5 * LWS_US_PER_MS);
}

static int
client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct wsc *c = lws_get_opaque_user_data(wsi);

	if (c == NULL)
		return reason == LWS_CALLBACK_CLIENT_WRITEABLE ? -1 : 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (c->token != NULL) {
			unsigned char **p = in, *end = *p + len;
			char v[600];

			snprintf(v, sizeof(v), "Bearer %s", c->token);
			if (lws_add_http_header_by_token(wsi,
			    WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)v,
			    (int)strlen(v), p, end))
				return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->state = WSC_OPEN;
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		c->state = WSC_FAILED;
		c->wsi = NULL;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c->rx_len + len > MAX_FRAME)
			return -1;
		c->rx = xrealloc(c->rx, c->rx_len + len + 1);
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		c->rx[c->rx_len] = '\0';
		if (lws_is_final_fragment(wsi)) {
			if (c->n_frames < MAX_FRAMES)
				c->frames[c->n_frames++] = c->rx;
			else
				free(c->rx);
			c->rx = NULL;
			c->rx_len = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		c->pongs++;
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2)
			c->close_code = ((unsigned char *)in)[0] << 8 |
			    ((unsigned char *)in)[1];
		else
			c->close_code = 1005;
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->want_close)
			return -1;
		if (c->want_ping) {
			unsigned char buf[LWS_PRE + 8];

			c->want_ping = false;
			memcpy(buf + LWS_PRE, "ping", 4);
			if (lws_write(wsi, buf + LWS_PRE, 4,
			    LWS_WRITE_PING) < 0)
				return -1;
		}
		if (c->to_send != NULL) {
			size_t n = strlen(c->to_send);
			unsigned char *buf = xmalloc(LWS_PRE + n);
			int w;

			memcpy(buf + LWS_PRE, c->to_send, n);
			w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
			free(buf);
			free(c->to_send);
			c->to_send = NULL;
			if (w < 0)
				return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		c->state = WSC_CLOSED;
		c->wsi = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols client_protocols[] = {
	{ "wrg-test-client", client_cb, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
service_until(struct wsc *c, size_t frames, long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		if (c->state == WSC_FAILED || c->state == WSC_CLOSED)
			return;
		if (frames > 0 && c->n_frames >= frames)
			return;
		if (frames == 0 && c->state == WSC_OPEN && !c->want_close)
			return;
		lws_service(cctx, 0);
	}
}

/* Services for ms milliseconds no matter what arrives. */
static void
service_for(long ms)
{
	long long deadline = now_ms() + ms;

	while (now_ms() < deadline)
		lws_service(cctx, 0);
}

/* Opens path (with query) on rt; waits ≤5 s for OPEN or failure. */
static struct wsc *
ws_open(struct rt *rt, const char *path, const char *token)
{
	struct lws_client_connect_info i;
	struct wsc *c = xcalloc(1, sizeof(*c));
	char addr[700];

	c->token = token;
	memset(&i, 0, sizeof(i));
	i.context = cctx;
	if (rt->unix_path[0] != '\0') {
		snprintf(addr, sizeof(addr), "+%s", rt->unix_path);
		i.address = addr;
	} else {
		i.address = "127.0.0.1";
		i.port = rt->port;
	}
	i.path = path;
	i.host = "127.0.0.1";
	i.origin = "127.0.0.1";
	i.local_protocol_name = "wrg-test-client";
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	if (lws_client_connect_via_info(&i) == NULL && c->state ==
	    WSC_CONNECTING)
		c->state = WSC_FAILED;
	service_until(c, 0, 5000);
	return c;
}

/* Waits until at least n frames arrived (or closed / timeout). */
static size_t
ws_wait(struct wsc *c, size_t n, long timeout_ms)
{
	service_until(c, n, timeout_ms);
	return c->n_frames;
}

/* Waits ≤timeout for the socket to be closed by the peer. */
static bool
ws_wait_closed(struct wsc *c, long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline && c->state != WSC_CLOSED &&
	    c->state != WSC_FAILED)
		lws_service(cctx, 0);
	return c->state == WSC_CLOSED || c->state == WSC_FAILED;
}

static void
ws_send(struct wsc *c, const char *text)
{
	free(c->to_send);
	c->to_send = xstrdup(text);
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
}

static void
ws_ping(struct wsc *c)
{
	c->want_ping = true;
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
}

static void
ws_free(struct wsc *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->wsi != NULL && c->state == WSC_OPEN) {
		c->want_close = true;
		lws_callback_on_writable(c->wsi);
		ws_wait_closed(c, 3000);
	}
	if (c->wsi != NULL)	/* never closed: detach from the callback */
		lws_set_opaque_user_data(c->wsi, NULL);
	for (i = 0; i < c->n_frames; i++)
		free(c->frames[i]);
	free(c->rx);
	free(c->to_send);
	free(c);
}

/* Frame i parsed (new reference) or NULL. */
static struct json_object *
frame(struct wsc *c, size_t i)
{
	if (i >= c->n_frames)
		return NULL;
	return wjson_parse(c->frames[i], strlen(c->frames[i]),
	    WJSON_MAX_DEPTH);
}

static bool
frame_is_diag(struct wsc *c, size_t i, const char *code)
{
	struct json_object *f = frame(c, i);
	bool ok = streq(jstr(f, "kind"), "diagnostic") &&
	    streq(jstr(f, "diagnostic.code"), code) &&
	    jstr(f, "diagnostic.message") != NULL;

	json_object_put(f);
	return ok;
}

static bool
frame_is_snapshot(struct wsc *c, size_t i, const char *worker_id)
{
	struct json_object *f = frame(c, i);
	const char *cur = jstr(f, "envelope.cursor");
	const char *eid = jstr(f, "envelope.event_id");
	bool ok = streq(jstr(f, "kind"), "event") && cur != NULL &&
	    eid != NULL && strncmp(eid, "snapshot:", 9) == 0 &&
	    strcmp(eid + 9, cur) == 0 &&
	    streq(jstr(f, "envelope.worker_id"), worker_id) &&
	    streq(jstr(f, "envelope.payload.event"), "snapshot") &&
	    json_object_is_type(jget(f, "envelope.payload.data.entries"),
	    json_type_array) &&
	    json_object_is_type(jget(f, "envelope.payload.data.greeting"),
	    json_type_object) &&
	    jstr(f, "envelope.payload.data.status") != NULL;

	json_object_put(f);
	return ok;
}

/* A "wo_" + 16 lower-case hex cursor → its number, or -1. */
static int64_t
cursor_num(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 19 || strncmp(s, "wo_", 3) != 0)
		return -1;
	for (i = 3; i < 19; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	return (int64_t)strtoull(s + 3, NULL, 16);
}

/* Event frame i: its sequence number (cursor == event_id), else -1;
 * payload.event is copied into ev when ev is non-NULL. */
static int64_t
frame_event(struct wsc *c, size_t i, char *ev, size_t evlen)
{
	struct json_object *f = frame(c, i);
	const char *cur = jstr(f, "envelope.cursor");
	int64_t n = -1;

	if (streq(jstr(f, "kind"), "event") &&
	    streq(cur, jstr(f, "envelope.event_id"))) {
		n = cursor_num(cur);
		if (ev != NULL)
			snprintf(ev, evlen, "%s",
			    jstr(f, "envelope.payload.event") ?
			    jstr(f, "envelope.payload.event") : "");
	}
	json_object_put(f);
	return n;
}

static void
cursor_of(int64_t n, char *out, size_t len)
{
	snprintf(out, len, "wo_%016" PRIx64, (uint64_t)n);
}

/* ---------------------------------------------------------------- */
/* scenarios                                                          */

static const char *full_create =
    "{\"intent\":{\"kind\":\"task\",\"objective\":\"fix the build\"},"
    "\"profile\":{\"kind\":\"builtin\",\"value\":\"builtin:coder\"},"
    "\"config_bundle\":{\"id\":\"bundle-1\"},"
    "\"requested_capabilities\":[{\"name\":\"read\",\"reason\":\"x\"}],"
    "\"workspace_refs\":[{\"name\":\"repo\",\"reference\":\"git:main\"}],"
    "\"mount_refs\":[{\"name\":\"cache\",\"reference\":\"vol:cache\"}]}";
static const char *min_create =
    "{\"intent\":{\"kind\":\"assistant\"},"
    "\"profile\":{\"kind\":\"runtime_default\"}}";

/* Creates a worker, returns its id (static buffer) or "". */
static const char *
create_worker(struct rt *rt)
{
	static char id[64];
	struct res r = { 0 };

	id[0] = '\0';
	if (post(rt, "/v1/workers", min_create, &r) && r.status == 200 &&
	    jstr(r.json, "worker.worker_id") != NULL)
		snprintf(id, sizeof(id), "%s",
		    jstr(r.json, "worker.worker_id"));
	res_clear(&r);
	return id;
}

static int64_t
input(struct rt *rt, const char *id, const char *text)
{
	struct res r = { 0 };
	char path[256], *body;
	struct json_object *o = json_object_new_object();
	int64_t eid = -1;
	size_t blen;

	json_object_object_add(o, "kind", json_object_new_string("user"));
	json_object_object_add(o, "content", json_object_new_string(text));
	body = xstrdup(wjson_str(o, &blen));
	json_object_put(o);
	snprintf(path, sizeof(path), "/v1/workers/%s/input", id);
	if (post(rt, path, body, &r) && r.status == 200)
		eid = jint(r.json, "ack.event_id");
	res_clear(&r);
	free(body);
	return eid;
}

static void
test_rest(struct rt *rt)
{
	struct res r = { 0 };
	char w1[64], w2[64], path[512];
	char *big;
	int i;

	/* auth */
	req(rt, "GET", "/v1/runtime", NULL, NULL, 0, NULL, &r);
	check(is_error(&r, 401, "unauthorized"), "REST without token: 401 "
	    "unauthorized");
	req(rt, "GET", "/v1/runtime", "wrong", NULL, 0, NULL, &r);
	check(is_error(&r, 401, "unauthorized"), "REST wrong token: 401");
	req(rt, "GET", "/v1/runtime", NULL, NULL, 0,
	    "Authorization: Basic " TOKEN, &r);
	check(is_error(&r, 401, "unauthorized"), "REST non-bearer auth: 401");
	req(rt, "GET", "/v1/runtime", NULL, NULL, 0,
	    "Authorization: bearer " TOKEN, &r);
	check(r.status == 200, "REST auth scheme is case-insensitive");
	req(rt, "GET", "/v1/runtime", NULL, NULL, 0,
	    "Authorization: Bearer " TOKEN "x", &r);
	check(is_error(&r, 401, "unauthorized"), "REST token with extra "
	    "byte: 401");
	req(rt, "POST", "/v1/workers", NULL, min_create, strlen(min_create),
	    NULL, &r);
	check(is_error(&r, 401, "unauthorized"), "POST without token: 401");
	req(rt, "GET", "/nope", NULL, NULL, 0, NULL, &r);
	check(is_error(&r, 401, "unauthorized"), "unknown route without "
	    "token: 401 before routing");

	/* runtime summary */
	get(rt, "/v1/runtime", &r);
	check(r.status == 200 && streq(jstr(r.json, "runtime.runtime_id"),
	    "rt-test") && streq(jstr(r.json, "runtime.display_name"),
	    "Test RT") && streq(jstr(r.json, "runtime.backend"), "memory") &&
	    streq(jstr(r.json, "runtime.status"), "running") &&
	    jint(r.json, "runtime.worker_count") == 0 &&
	    jint(r.json, "runtime.active_worker_count") == 0 &&
	    jint(r.json, "runtime.stopped_worker_count") == 0 &&
	    jint(r.json, "runtime.cancelled_worker_count") == 0 &&
	    jint(r.json, "runtime.diagnostic_count") == 0 &&
	    jint(r.json, "runtime.limits.max_transcript_projection_items") ==
	    4 && jint(r.json, "runtime.limits.max_event_batch_items") > 0,
	    "GET /v1/runtime: RuntimeSummary shape");

	/* create */
	post(rt, "/v1/workers", full_create, &r);
	snprintf(w1, sizeof(w1), "%s", jstr(r.json, "worker.worker_id") ?
	    jstr(r.json, "worker.worker_id") : "");
	check(r.status == 200 && w1[0] != '\0' &&
	    streq(jstr(r.json, "worker.worker_ref.worker_id"), w1) &&
	    streq(jstr(r.json, "worker.worker_ref.runtime_id"), "rt-test") &&
	    streq(jstr(r.json, "worker.runtime_id"), "rt-test") &&
	    streq(jstr(r.json, "worker.status"), "running") &&
	    streq(jstr(r.json, "worker.intent.objective"), "fix the build") &&
	    streq(jstr(r.json, "worker.profile.value"), "builtin:coder") &&
	    streq(jstr(r.json, "worker.config_bundle.id"), "bundle-1") &&
	    json_object_array_length(jget(r.json,
	    "worker.requested_capabilities")) == 1 &&
	    json_object_array_length(jget(r.json, "worker.workspace_refs")) ==
	    1 && json_object_array_length(jget(r.json, "worker.mount_refs")) ==
	    1 && jint(r.json, "worker.transcript_len") == 0 &&
	    jint(r.json, "worker.last_event_id") == 1,
	    "POST /v1/workers (full): WorkerDetail shape");
	post(rt, "/v1/workers", min_create, &r);
	snprintf(w2, sizeof(w2), "%s", jstr(r.json, "worker.worker_id") ?
	    jstr(r.json, "worker.worker_id") : "");
	check(r.status == 200 && w2[0] != '\0' && strcmp(w1, w2) != 0 &&
	    !jhas(r.json, "worker.config_bundle") &&
	    !jhas(r.json, "worker.requested_capabilities") &&
	    !jhas(r.json, "worker.workspace_refs") &&
	    !jhas(r.json, "worker.mount_refs") &&
	    streq(jstr(r.json, "worker.profile.kind"), "runtime_default"),
	    "POST /v1/workers (minimal): empty optional fields omitted");

	/* create: invalid bodies */
	{
		static const char *const bad[] = {
			"{", "", "[]", "{}", "{}x", "null",
			"{\"intent\":{\"kind\":\"task\"},"
			    "\"profile\":{\"kind\":\"runtime_default\"}}",
			"{\"intent\":{\"kind\":\"role\"},"
			    "\"profile\":{\"kind\":\"runtime_default\"}}",
			"{\"intent\":{\"kind\":\"bogus\"},"
			    "\"profile\":{\"kind\":\"runtime_default\"}}",
			"{\"intent\":{\"kind\":\"assistant\"},"
			    "\"profile\":{\"kind\":\"builtin\"}}",
			"{\"intent\":{\"kind\":\"assistant\"}}",
			"{\"profile\":{\"kind\":\"runtime_default\"}}",
			"{\"intent\":{\"kind\":\"assistant\"},"
			    "\"profile\":{\"kind\":\"runtime_default\"},"
			    "\"workspace_refs\":[{\"name\":1}]}",
			"/* c */{\"intent\":{\"kind\":\"assistant\"},"
			    "\"profile\":{\"kind\":\"runtime_default\"}}",
		};
		bool all = true;
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			post(rt, "/v1/workers", bad[k], &r);
			if (!is_error(&r, 400, "invalid_json")) {
				printf("# body %s -> %ld %s\n", bad[k],
				    r.status, r.body ? r.body : "");
				all = false;
			}
		}
		check(all, "POST /v1/workers: %zu malformed bodies -> 400 "
		    "invalid_json", k);
		req(rt, "POST", "/v1/workers", TOKEN,
		    "{\"intent\":{\"kind\":\"assistant\"},"
		    "\"profile\":{\"kind\""
		    ":\"named\",\"value\":\"\xff\"}}", 54, NULL, &r);
		check(is_error(&r, 400, "invalid_json"), "invalid UTF-8 body "
		    "-> 400 invalid_json");
	}
	big = xmalloc((2u << 20) + 1);
	memset(big, ' ', 2u << 20);
	big[2u << 20] = '\0';
	memcpy(big, "{\"intent\":", 10);
	post(rt, "/v1/workers", big, &r);
	check(is_error(&r, 400, "invalid_request"), "2 MiB body -> 400 "
	    "invalid_request (capped)");
	free(big);
	req(rt, "POST", "/v1/workers", TOKEN, min_create, strlen(min_create),
	    "Transfer-Encoding: chunked", &r);
	check(is_error(&r, 400, "invalid_request") && r.ms < 1000,
	    "chunked request body: 400 invalid_request at once (%lld ms)",
	    r.ms);
	get(rt, "/v1/runtime", &r);
	check(jint(r.json, "runtime.worker_count") == 2, "rejected creates "
	    "created nothing");

	/* list + get */
	get(rt, "/v1/workers", &r);
	{
		struct json_object *a = jget(r.json, "workers");
		struct json_object *e0 = json_object_array_get_idx(a, 0);
		struct json_object *e1 = json_object_array_get_idx(a, 1);

		check(r.status == 200 && json_object_array_length(a) == 2 &&
		    streq(jstr(e0, "worker_id"), w1) &&
		    streq(jstr(e0, "worker_ref.worker_id"), w1) &&
		    streq(jstr(e0, "runtime_id"), "rt-test") &&
		    streq(jstr(e0, "status"), "running") &&
		    jint(e0, "requested_capability_count") == 1 &&
		    json_object_get_boolean(jget(e0, "has_config_bundle")) &&
		    jint(e1, "requested_capability_count") == 0 &&
		    json_object_is_type(jget(e1, "has_config_bundle"),
		    json_type_boolean) &&
		    !json_object_get_boolean(jget(e1, "has_config_bundle")) &&
		    jint(e0, "transcript_len") == 0 &&
		    jint(e0, "last_event_id") == 1 &&
		    jget(e0, "intent") != NULL && jget(e0, "profile") != NULL,
		    "GET /v1/workers: WorkerSummary list");
	}
	snprintf(path, sizeof(path), "/v1/workers/%s", w1);
	get(rt, path, &r);
	check(r.status == 200 && streq(jstr(r.json, "worker.worker_id"), w1) &&
	    streq(jstr(r.json, "worker.config_bundle.id"), "bundle-1"),
	    "GET /v1/workers/{id}: WorkerDetail");
	get(rt, "/v1/workers/worker-0000ffff", &r);
	check(is_error(&r, 404, "worker_not_found"), "GET unknown worker: "
	    "404 worker_not_found");
	get(rt, "/v1/workers/%2e%2e%2fv1%2fruntime", &r);
	check(is_error(&r, 404, "worker_not_found") || is_plain(&r, 404),
	    "GET escaped odd worker id: 404");
	get(rt, "/v1/workers/", &r);
	check(is_error(&r, 400, "invalid_worker_id"), "GET /v1/workers/ "
	    "(empty id): 400 invalid_worker_id");

	/* input */
	snprintf(path, sizeof(path), "/v1/workers/%s/input", w1);
	post(rt, path, "{\"kind\":\"user\",\"content\":\"hello\"}", &r);
	check(r.status == 200 &&
	    streq(jstr(r.json, "ack.worker_ref.worker_id"), w1) &&
	    streq(jstr(r.json, "ack.status"), "running") &&
	    jint(r.json, "ack.transcript_sequence") == 1 &&
	    jint(r.json, "ack.event_id") == 3,
	    "POST input: WorkerInteractionAck shape");
	{
		static const char *const bad[] = { "", "{", "{}",
		    "{\"kind\":\"bot\",\"content\":\"x\"}",
		    "{\"kind\":\"user\"}", "{\"kind\":\"user\",\"content\":1}",
		    "[\"user\"]" };
		bool all = true;
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			post(rt, path, bad[k], &r);
			all = all && is_error(&r, 400, "invalid_json");
		}
		check(all, "POST input: malformed bodies -> 400 invalid_json");
	}
	post(rt, "/v1/workers/worker-0000ffff/input",
	    "{\"kind\":\"user\",\"content\":\"x\"}", &r);
	check(is_error(&r, 404, "worker_not_found"), "POST input unknown "
	    "worker: 404 worker_not_found");
	post(rt, path, "{\"kind\":\"system\",\"content\":\"sys\"}", &r);
	/* 2 is the reply to "hello" */
	check(r.status == 200 && jint(r.json, "ack.transcript_sequence") == 3,
	    "POST input kind system accepted");
	for (i = 0; i < 3; i++)
		input(rt, w1, "more");

	/* transcript */
	snprintf(path, sizeof(path), "/v1/workers/%s/transcript", w1);
	get(rt, path, &r);
	{
		struct json_object *items = jget(r.json, "transcript.items");
		struct json_object *it0 = json_object_array_get_idx(items, 0);
		struct json_object *it1 = json_object_array_get_idx(items, 1);

		check(r.status == 200 &&
		    jint(r.json, "transcript.start") == 0 &&
		    jint(r.json, "transcript.limit") == 4 &&
		    jint(r.json, "transcript.total_items") == 10 &&
		    json_object_array_length(items) == 4 &&
		    jint(r.json, "transcript.next_start") == 4 &&
		    streq(jstr(r.json, "transcript.worker_ref.worker_id"),
		    w1) &&
		    jint(it0, "sequence") == 1 && streq(jstr(it0, "role"),
		    "user") && streq(jstr(it0, "content"), "hello") &&
		    jint(it0, "event_id") == 3 &&
		    streq(jstr(it0, "worker_ref.worker_id"), w1) &&
		    streq(jstr(it1, "role"), "assistant") &&
		    streq(jstr(it1, "content"), "echo: hello") &&
		    jint(it1, "event_id") == 8,
		    "GET transcript: TranscriptProjection, default limit "
		    "capped at max, next_start, the reply recorded");
	}
	snprintf(path, sizeof(path), "/v1/workers/%s/transcript?start=9&"
	    "limit=2", w1);
	get(rt, path, &r);
	check(r.status == 200 && jint(r.json, "transcript.start") == 9 &&
	    json_object_array_length(jget(r.json, "transcript.items")) == 1 &&
	    jint(json_object_array_get_idx(jget(r.json, "transcript.items"),
	    0), "sequence") == 10 &&
	    json_object_is_type(jget(r.json, "transcript.next_start"),
	    json_type_null) && jhas(r.json, "transcript.next_start"),
	    "GET transcript start=9&limit=2: last page, next_start null");
	snprintf(path, sizeof(path), "/v1/workers/%s/transcript?start=99", w1);
	get(rt, path, &r);
	check(r.status == 200 &&
	    json_object_array_length(jget(r.json, "transcript.items")) == 0,
	    "GET transcript past the end: empty items");
	snprintf(path, sizeof(path), "/v1/workers/%s/transcript?limit=5", w1);
	get(rt, path, &r);
	check(is_error(&r, 400, "limit_too_large"), "GET transcript limit "
	    "above max: 400 limit_too_large");
	{
		static const char *const bad[] = { "start=x", "limit=-1",
		    "start=", "limit=1.5", "start=1e3", "limit" };
		bool all = true;
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			snprintf(path, sizeof(path),
			    "/v1/workers/%s/transcript?%s", w1, bad[k]);
			get(rt, path, &r);
			all = all && is_error(&r, 400, "invalid_query");
		}
		check(all, "GET transcript bad query values: 400 "
		    "invalid_query");
	}
	get(rt, "/v1/workers/worker-0000ffff/transcript", &r);
	check(is_error(&r, 404, "worker_not_found"), "GET transcript unknown "
	    "worker: 404");

	/* stop / cancel */
	snprintf(path, sizeof(path), "/v1/workers/%s/stop", w1);
	post(rt, path, "{\"reason\":\"done\"}", &r);
	check(r.status == 200 &&
	    streq(jstr(r.json, "ack.status"), "stopped") &&
	    streq(jstr(r.json, "ack.worker_ref.worker_id"), w1) &&
	    jint(r.json, "ack.event_id") > 0,
	    "POST stop {reason}: WorkerLifecycleAck stopped");
	snprintf(path, sizeof(path), "/v1/workers/%s/input", w1);
	post(rt, path, "{\"kind\":\"user\",\"content\":\"late\"}", &r);
	check(is_error(&r, 409, "invalid_request"), "input to stopped worker:"
	    " 409 invalid_request");
	snprintf(path, sizeof(path), "/v1/workers/%s/cancel", w2);
	post(rt, path, NULL, &r);
	check(r.status == 200 && streq(jstr(r.json, "ack.status"),
	    "cancelled"), "POST cancel with empty body: cancelled");
	post(rt, path, "{\"reason\":3}", &r);
	check(is_error(&r, 400, "invalid_json"), "POST cancel bad reason: "
	    "400 invalid_json");
	post(rt, "/v1/workers/worker-0000ffff/stop", NULL, &r);
	check(is_error(&r, 404, "worker_not_found"), "POST stop unknown "
	    "worker: 404");
	get(rt, "/v1/runtime", &r);
	check(jint(r.json, "runtime.worker_count") == 2 &&
	    jint(r.json, "runtime.active_worker_count") == 0 &&
	    jint(r.json, "runtime.stopped_worker_count") == 1 &&
	    jint(r.json, "runtime.cancelled_worker_count") == 1,
	    "runtime counts follow stop/cancel");

	/* router misses: plain 404 / 405 without JSON body */
	{
		static const struct { const char *m, *p; long st; } miss[] = {
			{ "GET", "/", 404 }, { "GET", "/nope", 404 },
			{ "GET", "/v1", 404 }, { "GET", "/v2/runtime", 404 },
			{ "GET", "/v1/workers/x/bogus", 404 },
			{ "POST", "/v1/unknown", 404 },
			{ "DELETE", "/v1/runtime", 405 },
			{ "POST", "/v1/runtime", 405 },
			{ "PUT", "/v1/workers", 405 },
			{ "GET", "/v1/workers/worker-00000001/input", 405 },
			{ "GET", "/v1/workers/worker-00000001/stop", 405 },
			{ "POST", "/v1/workers/worker-00000001/transcript",
			    405 },
			{ "GET", "/_control/fault", 405 },
		};
		bool all = true;
		size_t k;

		for (k = 0; k < sizeof(miss) / sizeof(miss[0]); k++) {
			req(rt, miss[k].m, miss[k].p, TOKEN, NULL, 0, NULL,
			    &r);
			if (!is_plain(&r, miss[k].st) || r.ms > 1000) {
				printf("# %s %s -> %ld (%zu bytes)\n",
				    miss[k].m, miss[k].p, r.status, r.len);
				all = false;
			}
		}
		check(all, "router misses: plain 404/405, no body, no stall "
		    "on the next request (%zu cases)", k);
	}
	res_clear(&r);
}

/* Everything about the observation socket on a fresh worker. */
static void
test_ws(struct rt *rt)
{
	struct res r = { 0 };
	struct wsc *a, *b;
	char path[512], w[64], cur[32], ev[64], text[256];
	int64_t eid, last = 0, seqs[16];
	size_t i, n;
	bool ok;

	snprintf(w, sizeof(w), "%s", create_worker(rt));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws", w);

	/* auth on the upgrade */
	a = ws_open(rt, path, NULL);
	check(a->state == WSC_FAILED, "WS upgrade without token refused");
	ws_free(a);
	a = ws_open(rt, path, "wrong");
	check(a->state == WSC_FAILED, "WS upgrade wrong token refused");
	ws_free(a);
	{
		/* the refusal is a real 401 with the JSON error body */
		struct curl_slist *h = NULL;
		char url[700];
		struct res rr = { 0 };

		snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rt->port,
		    path);
		curl_easy_reset(curl);
		h = curl_slist_append(h, "Connection: Upgrade");
		h = curl_slist_append(h, "Upgrade: websocket");
		h = curl_slist_append(h, "Sec-WebSocket-Version: 13");
		h = curl_slist_append(h,
		    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");
		h = curl_slist_append(h, "Authorization: Bearer wrong");
		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rr);
		curl_easy_perform(curl);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &rr.status);
		if (rr.body)
			rr.json = wjson_parse(rr.body, rr.len,
			    WJSON_MAX_DEPTH);
		curl_slist_free_all(h);
		check(is_error(&rr, 401, "unauthorized"), "WS upgrade wrong "
		    "token: HTTP 401 unauthorized JSON");
		res_clear(&rr);
	}
	get(rt, path, &r);
	check(r.status >= 400 && r.status < 500, "plain GET on events/ws "
	    "(no upgrade) is refused");

	/* snapshot first, then live events after input */
	a = ws_open(rt, path, TOKEN);
	check(a->state == WSC_OPEN, "WS open with token");
	ws_wait(a, 1, 3000);
	check(a->n_frames == 1 && frame_is_snapshot(a, 0, w),
	    "WS: first frame is the snapshot (event_id snapshot:<cursor>)");
	ws_ping(a);
	service_for(200);
	check(a->pongs == 1, "WS: ping answered with pong");
	eid = input(rt, w, "hello wörld");
	n = ws_wait(a, 7, 3000);
	ok = n == 7;
	text[0] = '\0';
	for (i = 1; i < n && i < 7; i++) {
		struct json_object *f = frame(a, i);

		seqs[i] = frame_event(a, i, ev, sizeof(ev));
		if (seqs[i] <= last ||
		    !streq(jstr(f, "envelope.worker_id"), w))
			ok = false;
		last = seqs[i];
		if (i == 1 && (!streq(ev, "transcript") || seqs[i] != eid))
			ok = false;
		if (i >= 2 && i <= 4) {
			if (!streq(ev, "text_delta"))
				ok = false;
			else
				strncat(text, jstr(f,
				    "envelope.payload.data.text") ?
				    jstr(f, "envelope.payload.data.text") : "",
				    sizeof(text) - strlen(text) - 1);
		}
		if (i == 5 && (!streq(ev, "text_done") ||
		    !streq(jstr(f, "envelope.payload.data.text"),
		    "echo: hello wörld")))
			ok = false;
		if (i == 6 && (!streq(ev, "transcript") ||
		    !streq(jstr(f, "envelope.payload.data.role"),
		    "assistant") ||
		    jint(f, "envelope.payload.data.sequence") != 2 ||
		    !streq(jstr(f, "envelope.payload.data.content"),
		    "echo: hello wörld")))
			ok = false;
		json_object_put(f);
	}
	check(ok && streq(text, "echo: hello wörld"), "WS live: transcript "
	    "event (= ack event_id), text_delta x3 joining to the echo, "
	    "text_done, the reply's transcript event; cursors increase");

	/* resume with a cursor: exactly the events after it */
	cursor_of(seqs[2], cur, sizeof(cur));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws?cursor=%s", w,
	    cur);
	b = ws_open(rt, path, TOKEN);
	ws_wait(b, 5, 3000);
	service_for(150);	/* anything extra would arrive now */
	ok = b->n_frames == 5 && frame_is_snapshot(b, 0, w);
	for (i = 1; ok && i < 5; i++)
		ok = frame_event(b, i, NULL, 0) == seqs[i + 2] &&
		    strcmp(b->frames[i], a->frames[i + 2]) == 0;
	check(ok, "WS resume ?cursor=: snapshot then exactly the 4 later "
	    "events, byte-identical to live (got %zu frames)", b->n_frames);
	{
		struct json_object *f = frame(b, 0);

		check(json_object_array_length(jget(f,
		    "envelope.payload.data.entries")) == 2 &&
		    streq(jstr(json_object_array_get_idx(jget(f,
		    "envelope.payload.data.entries"), 0), "content"),
		    "hello wörld") &&
		    streq(jstr(json_object_array_get_idx(jget(f,
		    "envelope.payload.data.entries"), 1), "content"),
		    "echo: hello wörld") &&
		    streq(jstr(json_object_array_get_idx(jget(f,
		    "envelope.payload.data.entries"), 1), "role"),
		    "assistant"), "WS snapshot carries the transcript, "
		    "input and reply");
		json_object_put(f);
	}
	ws_free(b);

	/* resume from the last cursor: no backlog */
	cursor_of(seqs[6], cur, sizeof(cur));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws?cursor=%s", w,
	    cur);
	b = ws_open(rt, path, TOKEN);
	ws_wait(b, 2, 400);
	check(b->n_frames == 1 && frame_is_snapshot(b, 0, w),
	    "WS resume from newest cursor: snapshot only");
	ws_free(b);

	/* emit */
	post(rt, "/_control/emit", NULL, &r);
	check(is_error(&r, 400, "invalid_json"), "emit without body: 400");
	snprintf(text, sizeof(text), "{\"worker_id\":\"%s\",\"count\":5}", w);
	post(rt, "/_control/emit", text, &r);
	check(r.status == 200 && jint(r.json, "last_event_id") == last + 5,
	    "POST /_control/emit count 5: last_event_id = previous + 5");
	n = ws_wait(a, 12, 3000);
	ok = n == 12;
	for (i = 7; ok && i < 12; i++) {
		struct json_object *f = frame(a, i);

		ok = frame_event(a, i, ev, sizeof(ev)) ==
		    last + (int64_t)i - 6 &&
		    streq(ev, "tick") &&
		    jint(f, "envelope.payload.data.n") == (int64_t)i - 6;
		json_object_put(f);
	}
	check(ok, "WS: emitted ticks arrive live with n = 1..5");
	post(rt, "/_control/emit",
	    "{\"worker_id\":\"worker-0000ffff\",\"count\":1}", &r);
	check(is_error(&r, 404, "worker_not_found"), "emit unknown worker: "
	    "404");

	/* stop: status event on the live socket */
	snprintf(path, sizeof(path), "/v1/workers/%s/stop", w);
	post(rt, path, NULL, &r);
	n = ws_wait(a, 13, 3000);
	{
		struct json_object *f = frame(a, 12);

		check(n == 13 && streq(jstr(f, "envelope.payload.event"),
		    "status") && streq(jstr(f,
		    "envelope.payload.data.status"), "stopped") &&
		    frame_event(a, 12, NULL, 0) == jint(r.json,
		    "ack.event_id"),
		    "WS: stop emits a status event (id = ack)");
		json_object_put(f);
	}

	/* a data frame from the client */
	ws_send(a, "hello?");
	ws_wait(a, 14, 3000);
	ws_wait_closed(a, 3000);
	check(a->n_frames == 14 && frame_is_diag(a, 13,
	    "runtime.observation_only") && a->state == WSC_CLOSED,
	    "WS data frame: runtime.observation_only diagnostic, then close");
	ws_free(a);

	/* diagnostics before any snapshot */
	{
		static const char *const bad[] = { "bad", "", "wo_",
		    "wo_000000000000000G", "WO_0000000000000001",
		    "wo_000000000000000A", "wo_00000000000000001",
		    "wo_000000000000001", "cursor",
		    "wo_00000000000000010000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000000"
		    };
		bool all = true;
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			if (strcmp(bad[k], "cursor") == 0)
				snprintf(path, sizeof(path),
				    "/v1/workers/%s/events/ws?cursor", w);
			else
				snprintf(path, sizeof(path),
				    "/v1/workers/%s/events/ws?cursor=%s", w,
				    bad[k]);
			b = ws_open(rt, path, TOKEN);
			ws_wait(b, 1, 3000);
			ws_wait_closed(b, 3000);
			if (!(b->n_frames == 1 && frame_is_diag(b, 0,
			    "runtime.cursor_malformed") &&
			    b->state == WSC_CLOSED)) {
				printf("# cursor '%s': %zu frames\n", bad[k],
				    b->n_frames);
				all = false;
			}
			ws_free(b);
		}
		check(all, "WS malformed cursors: only "
		    "runtime.cursor_malformed, then close (%zu cases)", k);
	}
	b = ws_open(rt, "/v1/workers/worker-0000ffff/events/ws", TOKEN);
	ws_wait(b, 1, 3000);
	ws_wait_closed(b, 3000);
	check(b->n_frames == 1 && frame_is_diag(b, 0,
	    "runtime.worker_not_found") && b->state == WSC_CLOSED,
	    "WS unknown worker: only runtime.worker_not_found, then close");
	ws_free(b);
	b = ws_open(rt, "/v1/workers/worker-0000ffff/events/ws?cursor="
	    "wo_0000000000000001", TOKEN);
	ws_wait(b, 1, 3000);
	check(b->n_frames == 1 && frame_is_diag(b, 0,
	    "runtime.worker_not_found"), "WS unknown worker with valid "
	    "cursor: worker_not_found (no snapshot)");
	ws_free(b);
	cursor_of(last + 1000, cur, sizeof(cur));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws?cursor=%s", w,
	    cur);
	b = ws_open(rt, path, TOKEN);
	ws_wait(b, 2, 3000);
	ws_wait_closed(b, 3000);
	check(b->n_frames == 2 && frame_is_snapshot(b, 0, w) &&
	    frame_is_diag(b, 1, "runtime.cursor_unknown_or_expired") &&
	    b->state == WSC_CLOSED, "WS future cursor: snapshot, then "
	    "runtime.cursor_unknown_or_expired, then close");
	ws_free(b);
	b = ws_open(rt, "/v1/workers/x/events/wsx", TOKEN);
	check(b->state == WSC_FAILED, "WS upgrade on a non-events path "
	    "refused");
	ws_free(b);

	/* drop-ws */
	{
		char w2[64];
		struct wsc *c1, *c2, *c3;

		snprintf(w2, sizeof(w2), "%s", create_worker(rt));
		snprintf(path, sizeof(path), "/v1/workers/%s/events/ws", w2);
		c1 = ws_open(rt, path, TOKEN);
		c2 = ws_open(rt, path, TOKEN);
		ws_wait(c1, 1, 3000);
		ws_wait(c2, 1, 3000);
		post(rt, "/_control/drop-ws", NULL, &r);
		check(r.status == 200 && jint(r.json, "dropped") == 2,
		    "POST /_control/drop-ws: {\"dropped\": 2}");
		ws_wait_closed(c1, 3000);
		ws_wait_closed(c2, 3000);
		check(c1->state == WSC_CLOSED && c2->state == WSC_CLOSED &&
		    c1->close_code == 0 && c2->close_code == 0 &&
		    c1->n_frames == 1 && c2->n_frames == 1,
		    "drop-ws: both sockets closed abruptly (no close frame, "
		    "no diagnostic)");
		c3 = ws_open(rt, path, TOKEN);
		ws_wait(c3, 1, 3000);
		check(c3->n_frames == 1 && frame_is_snapshot(c3, 0, w2),
		    "after drop-ws new observation sockets work");
		post(rt, "/_control/drop-ws", NULL, &r);
		check(jint(r.json, "dropped") == 1, "drop-ws counts only open "
		    "sockets");
		ws_free(c1);
		ws_free(c2);
		ws_free(c3);
	}
	res_clear(&r);
}

/* Retention window: --retention 8. */
static void
test_retention(void)
{
	struct rt rt;
	struct res r = { 0 };
	struct wsc *b;
	char w[64], path[512], cur[32], body[128];
	size_t i;
	bool ok;

	if (!rt_start(&rt, "retention", NULL, "--token", TOKEN,
	    "--retention", "8", NULL)) {
		check(false, "start runtime --retention 8");
		return;
	}
	snprintf(w, sizeof(w), "%s", create_worker(&rt));	/* seq 1 */
	snprintf(body, sizeof(body), "{\"worker_id\":\"%s\",\"count\":15}", w);
	post(&rt, "/_control/emit", body, &r);		/* 2..16 */
	check(jint(r.json, "last_event_id") == 16, "retention: 16 events");
	snprintf(path, sizeof(path),
	    "/v1/workers/%s/events/ws?cursor=wo_0000000000000001", w);
	b = ws_open(&rt, path, TOKEN);
	ws_wait(b, 2, 3000);
	ws_wait_closed(b, 3000);
	check(b->n_frames == 2 && frame_is_snapshot(b, 0, w) &&
	    frame_is_diag(b, 1, "runtime.cursor_unknown_or_expired") &&
	    b->state == WSC_CLOSED, "expired cursor: snapshot, then "
	    "runtime.cursor_unknown_or_expired, then close");
	ws_free(b);
	cursor_of(8, cur, sizeof(cur));	/* oldest retained is 9 */
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws?cursor=%s", w,
	    cur);
	b = ws_open(&rt, path, TOKEN);
	ws_wait(b, 9, 3000);
	service_for(100);
	ok = b->n_frames == 9 && frame_is_snapshot(b, 0, w);
	for (i = 1; ok && i < 9; i++)
		ok = frame_event(b, i, NULL, 0) == 8 + (int64_t)i;
	check(ok, "cursor at the window edge: full backlog 9..16");
	ws_free(b);
	cursor_of(7, cur, sizeof(cur));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws?cursor=%s", w,
	    cur);
	b = ws_open(&rt, path, TOKEN);
	ws_wait(b, 2, 3000);
	check(b->n_frames == 2 && frame_is_diag(b, 1,
	    "runtime.cursor_unknown_or_expired"), "cursor one before the "
	    "window edge: expired");
	ws_free(b);

	/* a connection that falls too far behind: queue cap is
	 * retention + 4096 messages, one emit of 5000 overflows it */
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws", w);
	b = ws_open(&rt, path, TOKEN);
	ws_wait(b, 1, 3000);
	snprintf(body, sizeof(body), "{\"worker_id\":\"%s\",\"count\":5000}",
	    w);
	post(&rt, "/_control/emit", body, &r);
	ws_wait_closed(b, 5000);
	check(b->n_frames >= 2 && frame_is_diag(b, b->n_frames - 1,
	    "runtime.cursor_expired") && b->state == WSC_CLOSED,
	    "slow observer over its queue cap: runtime.cursor_expired, "
	    "then close");
	ws_free(b);
	rt_stop(&rt, SIGTERM);
	res_clear(&r);
}

static int
count_lines(const char *file)
{
	FILE *f = fopen(file, "r");
	int c, n = 0;

	if (f == NULL)
		return -1;
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

/* --state-dir: kill -9, restart, continuity. */
static void
test_state_dir(void)
{
	struct rt rt;
	struct res r = { 0 };
	struct wsc *a, *b;
	char dir[600], log[700], w[64], path[512], cur[32];
	int64_t e1, e2, head;
	size_t i;
	bool ok;
	int st;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/state", scratch);
	snprintf(log, sizeof(log), "%s/events.jsonl", dir);
	if (!rt_start(&rt, "state1", NULL, "--token", TOKEN, "--state-dir",
	    dir, "--retention", "12", NULL)) {
		check(false, "start runtime --state-dir");
		return;
	}
	get(&rt, "/v1/runtime", &r);
	check(streq(jstr(r.json, "runtime.backend"), "fs_store"),
	    "state-dir runtime reports backend fs_store");
	snprintf(w, sizeof(w), "%s", create_worker(&rt));	/* 1 */
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws", w);
	a = ws_open(&rt, path, TOKEN);
	ws_wait(a, 1, 3000);
	e1 = input(&rt, w, "first");			/* 2..7 */
	e2 = input(&rt, w, "second");			/* 8..13 */
	ws_wait(a, 13, 3000);
	check(e1 == 2 && e2 == 8 && a->n_frames == 13, "state-dir: events "
	    "2..13 observed live");
	check(count_lines(log) == 13, "every event is in the log before "
	    "kill -9 (13 lines)");
	rt_stop(&rt, SIGKILL);
	ws_wait_closed(a, 3000);

	/* a torn last line, as a kill -9 mid-write would leave */
	f = fopen(log, "a");
	if (f != NULL) {
		fputs("{\"seq\":14,\"worker_id\":\"wor", f);
		fclose(f);
	}
	if (!rt_start(&rt, "state2", NULL, "--token", TOKEN, "--state-dir",
	    dir, "--retention", "12", NULL)) {
		check(false, "restart after kill -9 with a torn last line");
		ws_free(a);
		return;
	}
	check(true, "restart after kill -9 with a torn last line");
	snprintf(path, sizeof(path), "/v1/workers/%s", w);
	get(&rt, path, &r);
	check(r.status == 200 && jint(r.json, "worker.transcript_len") == 4 &&
	    jint(r.json, "worker.last_event_id") == 13 &&
	    streq(jstr(r.json, "worker.status"), "running"),
	    "after restart the worker is still there (transcript 4, last "
	    "event 13)");
	snprintf(path, sizeof(path), "/v1/workers/%s/transcript", w);
	get(&rt, path, &r);
	check(streq(jstr(json_object_array_get_idx(jget(r.json,
	    "transcript.items"), 1), "content"), "echo: first") &&
	    streq(jstr(json_object_array_get_idx(jget(r.json,
	    "transcript.items"), 1), "role"), "assistant") &&
	    streq(jstr(json_object_array_get_idx(jget(r.json,
	    "transcript.items"), 2), "content"), "second") &&
	    jint(json_object_array_get_idx(jget(r.json, "transcript.items"),
	    2), "event_id") == 8, "after restart the transcript is intact, "
	    "replies included");

	/* the old cursor still resumes, with byte-identical events */
	cursor_of(e1, cur, sizeof(cur));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws?cursor=%s", w,
	    cur);
	b = ws_open(&rt, path, TOKEN);
	ws_wait(b, 12, 3000);
	service_for(100);
	ok = b->n_frames == 12 && frame_is_snapshot(b, 0, w);
	for (i = 1; ok && i < 12; i++)
		ok = strcmp(b->frames[i], a->frames[i + 1]) == 0;
	check(ok, "after restart a pre-crash cursor yields exactly the same "
	    "later events (%zu frames)", b->n_frames);
	ws_free(b);
	ws_free(a);

	/* ids continue: no cursor is reused for a different event */
	head = input(&rt, w, "third");
	check(head == 14, "after restart event ids continue at 14 (got %"
	    PRId64 ")", head);
	check(count_lines(log) == 19, "torn line was cut: log has 19 "
	    "complete lines");

	/* the retention window survives too (12 events retained) */
	b = ws_open(&rt, "/v1/workers/worker-00000001/events/ws?cursor="
	    "wo_0000000000000006", TOKEN);
	ws_wait(b, 2, 3000);
	check(b->n_frames == 2 && frame_is_diag(b, 1,
	    "runtime.cursor_unknown_or_expired"), "retention window after "
	    "restart: cursor 6 expired (window 8..19)");
	ws_free(b);
	b = ws_open(&rt, "/v1/workers/worker-00000001/events/ws?cursor="
	    "wo_0000000000000007", TOKEN);
	ws_wait(b, 13, 3000);
	check(b->n_frames == 13, "retention window after restart: cursor 7 "
	    "gives 12 events");
	ws_free(b);
	st = rt_stop(&rt, SIGTERM);
	check(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "SIGTERM: clean exit 0");

	/* a corrupt line in the middle is refused, not ignored */
	f = fopen(log, "r+");
	if (f != NULL) {
		fseek(f, 3, SEEK_SET);
		fputc('#', f);
		fclose(f);
	}
	check(!rt_start(&rt, "state3", NULL, "--state-dir", dir, NULL),
	    "corrupt event log (not a torn tail): start refused");
	if (rt.pid > 0)
		rt_stop(&rt, SIGKILL);
	res_clear(&r);
}

/* --tick-ms, persisted tick counter across restart. */
static void
test_tick(void)
{
	struct rt rt;
	struct res r = { 0 };
	struct wsc *a;
	char dir[600], w[64], path[512];
	int64_t n_last = 0, last_id, id2;
	size_t i;
	bool ok = true;

	snprintf(dir, sizeof(dir), "%s/tickstate", scratch);
	if (!rt_start(&rt, "tick1", NULL, "--tick-ms", "30", "--state-dir",
	    dir, NULL)) {
		check(false, "start runtime --tick-ms 30");
		return;
	}
	snprintf(w, sizeof(w), "%s", create_worker(&rt));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws", w);
	a = ws_open(&rt, path, NULL);
	ws_wait(a, 5, 3000);
	for (i = 1; i < a->n_frames; i++) {
		struct json_object *f = frame(a, i);
		int64_t n = jint(f, "envelope.payload.data.n");

		if (!streq(jstr(f, "envelope.payload.event"), "tick") ||
		    (n_last != 0 && n != n_last + 1))
			ok = false;
		n_last = n;
		json_object_put(f);
	}
	check(ok && a->n_frames >= 5, "--tick-ms: running worker emits tick "
	    "events n=K, K+1, ... (no token configured: open access)");
	ws_free(a);
	rt_stop(&rt, SIGKILL);
	if (!rt_start(&rt, "tick2", NULL, "--tick-ms", "30", "--state-dir",
	    dir, NULL)) {
		check(false, "restart tick runtime");
		return;
	}
	a = ws_open(&rt, path, NULL);
	ws_wait(a, 2, 3000);
	{
		struct json_object *f = frame(a, 1);

		check(streq(jstr(f, "envelope.payload.event"), "tick") &&
		    jint(f, "envelope.payload.data.n") > n_last,
		    "tick counter continues after kill -9 + restart");
		json_object_put(f);
	}
	ws_free(a);
	snprintf(path, sizeof(path), "/v1/workers/%s/stop", w);
	req(&rt, "POST", path, NULL, NULL, 0, NULL, &r);
	last_id = jint(r.json, "ack.event_id");
	sleep_ms(200);
	snprintf(path, sizeof(path), "/v1/workers/%s", w);
	req(&rt, "GET", path, NULL, NULL, 0, NULL, &r);
	id2 = jint(r.json, "worker.last_event_id");
	check(last_id > 0 && id2 == last_id, "a stopped worker does not tick");
	rt_stop(&rt, SIGTERM);
	res_clear(&r);
}

/* --listen unix:PATH and --token-file. */
static void
test_unix(void)
{
	struct rt rt;
	struct res r = { 0 };
	struct wsc *a;
	char sock[600], tf[600], w[64], path[512], buf[16] = "";
	FILE *f;

	snprintf(sock, sizeof(sock), "%s/rt.sock", scratch);
	snprintf(tf, sizeof(tf), "%s/token", scratch);
	f = fopen(tf, "w");
	if (f != NULL) {
		fputs(TOKEN "\n", f);
		fclose(f);
	}
	if (!rt_start(&rt, "unix", sock, "--token-file", tf, NULL)) {
		check(false, "start runtime on a unix socket");
		return;
	}
	f = fopen(rt.ready, "r");
	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	check(strcmp(buf, "0\n") == 0, "unix: ready file contains 0");
	get(&rt, "/v1/runtime", &r);
	check(r.status == 200 && streq(jstr(r.json, "runtime.runtime_id"),
	    "sample") && json_object_is_type(jget(r.json,
	    "runtime.display_name"), json_type_null) &&
	    jhas(r.json, "runtime.display_name"), "unix: GET /v1/runtime "
	    "(defaults: runtime_id sample, display_name null; --token-file)");
	req(&rt, "GET", "/v1/runtime", "nope", NULL, 0, NULL, &r);
	check(is_error(&r, 401, "unauthorized"), "unix: wrong token 401");
	snprintf(w, sizeof(w), "%s", create_worker(&rt));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws", w);
	a = ws_open(&rt, path, TOKEN);
	ws_wait(a, 1, 3000);
	input(&rt, w, "over unix");
	ws_wait(a, 7, 3000);
	check(a->n_frames == 7 && frame_is_snapshot(a, 0, w),
	    "unix: WS snapshot + live events");
	ws_free(a);
	rt_stop(&rt, SIGTERM);
	check(access(sock, F_OK) != 0, "unix: socket file removed on exit");
	res_clear(&r);
}

/* Every fault switch, via /_control/fault on a running runtime. */
static void
test_faults_control(struct rt *rt)
{
	struct res r = { 0 };
	struct wsc *a;
	char w[64], path[512];

	snprintf(w, sizeof(w), "%s", create_worker(rt));
	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws", w);
	post(rt, "/_control/fault", "{\"delay_ms\":\"x\"}", &r);
	check(is_error(&r, 400, "invalid_json"), "fault: bad value -> 400");
	post(rt, "/_control/fault", "{\"delay_ms\":300}", &r);
	check(r.status == 200 && jint(r.json, "fault.delay_ms") == 300 &&
	    jhas(r.json, "fault.fail_500") && jhas(r.json,
	    "fault.invalid_json") && jhas(r.json, "fault.oversize_bytes") &&
	    jhas(r.json, "fault.refuse_token"), "fault: full state returned");
	get(rt, "/v1/runtime", &r);
	check(r.status == 200 && r.ms >= 290 && r.json != NULL,
	    "fault delay_ms 300: answer delayed (%lld ms)", r.ms);
	post(rt, "/_control/fault", "{}", &r);
	check(r.ms < 250, "fault delay does not apply to /_control/");
	post(rt, "/_control/fault", "{\"delay_ms\":0,\"fail_500\":true}", &r);
	get(rt, "/v1/workers", &r);
	check(is_error(&r, 500, "store_io") && strchr(jstr(r.json,
	    "error.message"), '/') != NULL, "fault fail_500: 500 store_io "
	    "naming a path");
	post(rt, "/_control/fault", "{\"fail_500\":false,"
	    "\"invalid_json\":true}", &r);
	check(r.status == 200, "control endpoint unaffected by faults");
	get(rt, "/v1/runtime", &r);
	check(r.status == 200 && r.len > 0 && r.json == NULL,
	    "fault invalid_json: 200 with an unparsable body");
	post(rt, "/_control/fault", "{\"invalid_json\":false,"
	    "\"oversize_bytes\":200000}", &r);
	get(rt, "/v1/runtime", &r);
	check(r.status == 200 && r.len >= 200000 && r.json != NULL &&
	    streq(jstr(r.json, "runtime.runtime_id"), "rt-test"),
	    "fault oversize_bytes: 200 with valid JSON >= N bytes (%zu)",
	    r.len);
	post(rt, "/_control/fault", "{\"oversize_bytes\":0,"
	    "\"refuse_token\":true}", &r);
	get(rt, "/v1/runtime", &r);
	check(is_error(&r, 401, "unauthorized"), "fault refuse_token: REST "
	    "401 with the right token");
	a = ws_open(rt, path, TOKEN);
	check(a->state == WSC_FAILED, "fault refuse_token: WS upgrade "
	    "refused");
	ws_free(a);
	post(rt, "/_control/fault", "{\"refuse_token\":false}", &r);
	check(r.status == 200 && jint(r.json, "fault.delay_ms") == 0 &&
	    !json_object_get_boolean(jget(r.json, "fault.refuse_token")),
	    "fault: all switches off again");
	get(rt, "/v1/runtime", &r);
	check(r.status == 200 && r.json != NULL, "after faults: normal");
	res_clear(&r);
}

/* Every fault switch as a start-up flag. */
static void
test_fault_flags(void)
{
	struct rt rt;
	struct res r = { 0 };
	struct wsc *a;

	if (rt_start(&rt, "f-delay", NULL, "--fault-delay-ms", "250", NULL)) {
		req(&rt, "GET", "/v1/runtime", NULL, NULL, 0, NULL, &r);
		check(r.status == 200 && r.ms >= 240, "--fault-delay-ms 250 "
		    "(%lld ms)", r.ms);
		rt_stop(&rt, SIGTERM);
	} else {
		check(false, "start --fault-delay-ms");
	}
	if (rt_start(&rt, "f-500", NULL, "--fault-500", NULL)) {
		req(&rt, "GET", "/v1/runtime", NULL, NULL, 0, NULL, &r);
		check(is_error(&r, 500, "store_io"), "--fault-500");
		req(&rt, "POST", "/_control/fault", NULL, NULL, 0, NULL, &r);
		check(r.status == 200 && json_object_get_boolean(jget(r.json,
		    "fault.fail_500")),
		    "--fault-500 shows in /_control/fault");
		rt_stop(&rt, SIGTERM);
	} else {
		check(false, "start --fault-500");
	}
	if (rt_start(&rt, "f-json", NULL, "--fault-invalid-json", NULL)) {
		req(&rt, "GET", "/v1/workers", NULL, NULL, 0, NULL, &r);
		check(r.status == 200 && r.len > 0 && r.json == NULL,
		    "--fault-invalid-json");
		rt_stop(&rt, SIGTERM);
	} else {
		check(false, "start --fault-invalid-json");
	}
	if (rt_start(&rt, "f-big", NULL, "--fault-oversize", "3000000",
	    NULL)) {
		req(&rt, "GET", "/v1/workers", NULL, NULL, 0, NULL, &r);
		check(r.status == 200 && r.len >= 3000000 && r.json != NULL,
		    "--fault-oversize 3000000 (%zu bytes)", r.len);
		rt_stop(&rt, SIGTERM);
	} else {
		check(false, "start --fault-oversize");
	}
	if (rt_start(&rt, "f-tok", NULL, "--token", TOKEN,
	    "--fault-refuse-token", NULL)) {
		get(&rt, "/v1/runtime", &r);
		check(is_error(&r, 401, "unauthorized"),
		    "--fault-refuse-token: REST 401");
		a = ws_open(&rt, "/v1/workers/worker-00000001/events/ws",
		    TOKEN);
		check(a->state == WSC_FAILED, "--fault-refuse-token: WS 401");
		ws_free(a);
		rt_stop(&rt, SIGTERM);
	} else {
		check(false, "start --fault-refuse-token");
	}
	res_clear(&r);
}

/* Fast enough that benchmarks measure wrg, not the peer. */
static void
test_speed(struct rt *rt)
{
	struct res r = { 0 };
	long long t0 = now_ms();
	int i, ok = 0;

	for (i = 0; i < 1000; i++)
		if (get(rt, "/v1/workers", &r) && r.status == 200)
			ok++;
	check(ok == 1000 && now_ms() - t0 < 10000, "1000 sequential REST "
	    "requests in %lld ms", now_ms() - t0);
	res_clear(&r);
}

static void
test_bad_cli(void)
{
	struct rt rt;

	check(!rt_start(&rt, "bad1", NULL, "--retention", "x", NULL),
	    "bad --retention: start refused");
	check(!rt_start(&rt, "bad2", NULL, "--bogus", NULL),
	    "unknown option: start refused");
	check(!rt_start(&rt, "bad3", "/nonexistent-dir/x.sock", NULL),
	    "unix socket in a missing dir: start refused, no ready file");
}

int
main(void)
{
	const char *bd = getenv("top_builddir");
	struct lws_context_creation_info info;
	static char binbuf[1024];
	struct rt rt;

	signal(SIGPIPE, SIG_IGN);
	if (bd == NULL)
		bd = ".";
	snprintf(binbuf, sizeof(binbuf),
	    "%s/tests/sample-runtime/wrg-sample-runtime", bd);
	bin = getenv("SAMPLE_RUNTIME") ? getenv("SAMPLE_RUNTIME") : binbuf;
	snprintf(scratch, sizeof(scratch), "%s/tests/tmp", bd);
	mkdir(scratch, 0755);
	snprintf(scratch, sizeof(scratch),
	    "%s/tests/tmp/sample_runtime_test.%ld", bd, (long)getpid());
	if (mkdir(scratch, 0700) != 0) {
		fprintf(stderr, "cannot create %s\n", scratch);
		return 99;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = client_protocols;
	info.gid = -1;
	info.uid = -1;
	cctx = lws_create_context(&info);
	if (curl == NULL || cctx == NULL) {
		fprintf(stderr, "cannot init curl / lws\n");
		return 99;
	}
	lws_sul_schedule(cctx, 0, &wake_sul, wake, 5 * LWS_US_PER_MS);

	if (rt_start(&rt, "main", NULL, "--token", TOKEN, "--runtime-id",
	    "rt-test", "--display-name", "Test RT", "--max-transcript", "4",
	    NULL)) {
		test_rest(&rt);
		test_ws(&rt);
		test_faults_control(&rt);
		test_speed(&rt);
		check(rt_stop(&rt, SIGTERM) == 0,
		    "main runtime: SIGTERM exit 0");
	} else {
		check(false, "start the main runtime");
	}
	test_retention();
	test_state_dir();
	test_tick();
	test_unix();
	test_fault_flags();
	test_bad_cli();

	lws_sul_cancel(&wake_sul);
	lws_context_destroy(cctx);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	printf("sample_runtime_test: %d passed, %d failed\n", n_pass, n_fail);
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
