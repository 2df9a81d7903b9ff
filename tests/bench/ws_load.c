/*
 * ws_load — the C WebSocket load client of scripts/bench.sh's WS part
 * (tests/bench/ws.sh, docs/bench.md).
 *
 * Holds N observation sockets (up to tens of thousands) on one event
 * stream path, spread round-robin over W workers, in one epoll loop, and
 * measures what a relay does with them: emit-to-browser latency (R rounds
 * of POST /_control/emit {"count": 1} on the sample runtime, one sample
 * per (event, socket)) and throughput (one emit of K events per worker;
 * events/s = frames received / time until the last socket got its last
 * one). It checks that every socket gets every event exactly once and in
 * order and that no diagnostic frame arrives, and prints one
 * machine-readable `WSBENCH key=value ...` line (the fields of the older
 * tests/bench/ws_bench.py, plus held=, workers=, rt_socks=, why=).
 *
 * Why not libwebsockets as the client: lws 4.1's default loop poll()s
 * every fd on each wake-up, so at 10,000 sockets the client would cost
 * what the relay under test costs. This is a load generator, not a
 * browser: it sends one fixed upgrade request (fixed key, no extension
 * offered, Sec-WebSocket-Accept not checked) and reads the unmasked
 * frames a server sends; it answers pings with an empty-masked pong and
 * never sends data. Events are recognised by a scan for
 * `"event_id":"wo_<hex>"` (the runtime's sequence number, also what
 * wrg-wsproxy passes through); --json parses every frame with json-c
 * instead, to show what that costs. The emit calls use libcurl on a
 * second thread so the epoll loop keeps reading while the runtime answers.
 *
 * Exit: 0 all held and every event once and in order, no diagnostic;
 * 1 loss/disorder/diagnostic/early close; 2 usage or setup error;
 * 3 not every socket could be held (the row is skipped: see why=, the
 * first reason, '+' for spaces; opening stops once 1% have failed).
 * Ownership: struct load owns every connection, buffer and the emitter;
 * load_free() releases them. No globals.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

#define LD_RBUF (256u * 1024u)		/* one shared read buffer */
#define LD_MSG_MAX (1u << 20)		/* cap of one reassembled message */
#define LD_HEAD_MAX 8192u		/* cap of an upgrade answer */
#define LD_MAX_PIDS 8
#define LD_MAX_PID_EACH 64
#define LD_ROUND_S 10.0			/* one latency round at most */

enum conn_state { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_DEAD };

struct conn {
	int fd;
	enum conn_state st;
	unsigned worker;
	bool snap;			/* got its first frame */
	bool fin_seen;			/* current message complete */
	char *part;			/* bytes of an incomplete frame/head */
	size_t part_len;
	char *msg;			/* fragments of a message */
	size_t msg_len;
	uint64_t last_seq;
	uint64_t count;			/* events after the snapshot */
	double t_reach;			/* when count reached want */
};

struct procwatch {
	char name[32];
	int pids[LD_MAX_PID_EACH];
	int npids;
	double cpu0;
	long rss0, rss1, hwm1;
};

struct emitter {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool has_job, quit, started;
	long count;
	int efd;			/* written when a job is done */
	CURL *curl;
	struct curl_slist *hdrs;
	char url[128];
	char **workers;
	unsigned nworkers;
	double *t_emit;			/* per worker, before its POST */
	int64_t *last_id;		/* per worker, from the answer */
	char err[256];
	char resp[4096];
	size_t resp_len;
};

struct opts {
	char host[64];
	int port;
	const char *path_fmt;		/* "{W}" is the worker id */
	char **workers;
	unsigned nworkers;
	unsigned conns;
	const char *emit;		/* runtime HOST:PORT */
	const char *token;
	bool ws_token;
	unsigned rounds;
	long burst;
	double timeout;
	double stall;
	unsigned inflight;
	int count_port;
	bool json;
	struct procwatch pw[LD_MAX_PIDS];
	int npw;
};

struct load {
	struct opts o;
	struct conn *c;
	int ep;
	char *rbuf;
	char **req;			/* upgrade request per worker */
	size_t *req_len;
	unsigned next, inflight, held, failed;
	uint64_t want;			/* events each socket must reach */
	unsigned pending;		/* sockets still below want */
	bool emit_done;
	uint64_t diags, disorder, closed_early;
	char why[160];
	char diag1[160];
	struct emitter em;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- /proc readings ---------------------------------------------------- */

static double
proc_cpu(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* after ") ": state is field 3; utime, stime are fields 14, 15 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long
proc_status_kb(int pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static double
box_cpu(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		memset(v, 0, sizeof(v));
	fclose(f);
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
	    (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
pw_cpu(const struct procwatch *w)
{
	double s = 0;
	int i;

	for (i = 0; i < w->npids; i++)
		s += proc_cpu(w->pids[i]);
	return s;
}

static long
pw_kb(const struct procwatch *w, const char *key)
{
	long s = 0;
	int i;

	for (i = 0; i < w->npids; i++)
		s += proc_status_kb(w->pids[i], key);
	return s;
}

/* ESTABLISHED sockets whose peer is the runtime's port, counted by ss. */
static long
count_runtime_socks(int port)
{
	char cmd[160], line[512];
	long n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ss -Htn state established "
	    "'( dport = :%d )' 2>/dev/null", port);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL)
		n++;
	if (pclose(p) != 0)
		return -1;
	return n;
}

/* ---- the emitter thread (libcurl, blocking, keep-alive) --------------- */

static size_t
em_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct emitter *e = arg;
	size_t n = size * nmemb;

	if (e->resp_len + n >= sizeof(e->resp))
		return 0;	/* far beyond {"last_event_id": N}: fail */
	memcpy(e->resp + e->resp_len, ptr, n);
	e->resp_len += n;
	e->resp[e->resp_len] = '\0';
	return n;
}

/* One POST /_control/emit; sets e->last_id[w]; 0 or -1 (e->err set). */
static int
em_post(struct emitter *e, unsigned w, long count)
{
	char body[512];
	struct json_object *o = NULL, *v;
	long code = 0;
	CURLcode rc;
	int ret = -1;

	snprintf(body, sizeof(body), "{\"worker_id\":\"%s\",\"count\":%ld}",
	    e->workers[w], count);
	e->resp_len = 0;
	e->resp[0] = '\0';
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	e->t_emit[w] = now_s();
	rc = curl_easy_perform(e->curl);
	if (rc != CURLE_OK) {
		snprintf(e->err, sizeof(e->err), "emit: %s",
		    curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &code);
	o = json_tokener_parse(e->resp);
	if (code != 200 || o == NULL ||
	    !json_object_object_get_ex(o, "last_event_id", &v)) {
		snprintf(e->err, sizeof(e->err), "emit: HTTP %ld", code);
		goto out;
	}
	e->last_id[w] = json_object_get_int64(v);
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

static void *
em_main(void *arg)
{
	struct emitter *e = arg;
	uint64_t one = 1;
	unsigned w;
	long count;

	for (;;) {
		pthread_mutex_lock(&e->mu);
		while (!e->has_job && !e->quit)
			pthread_cond_wait(&e->cv, &e->mu);
		if (e->quit) {
			pthread_mutex_unlock(&e->mu);
			break;
		}
		count = e->count;
		e->has_job = false;
		pthread_mutex_unlock(&e->mu);
		for (w = 0; w < e->nworkers && e->err[0] == '\0'; w++)
			em_post(e, w, count);
		if (write(e->efd, &one, sizeof(one)) != sizeof(one))
			break;
	}
	return NULL;
}

static int
em_init(struct emitter *e, const struct opts *o)
{
	memset(e, 0, sizeof(*e));
	e->workers = o->workers;
	e->nworkers = o->nworkers;
	e->t_emit = xcalloc(o->nworkers, sizeof(*e->t_emit));
	e->last_id = xcalloc(o->nworkers, sizeof(*e->last_id));
	snprintf(e->url, sizeof(e->url), "http://%s/_control/emit", o->emit);
	e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->efd < 0 || (e->curl = curl_easy_init()) == NULL)
		return -1;
	e->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (o->token != NULL && o->token[0] != '\0') {
		char *h = xasprintf("Authorization: Bearer %s", o->token);

		e->hdrs = curl_slist_append(e->hdrs, h);
		free(h);
	}
	curl_easy_setopt(e->curl, CURLOPT_URL, e->url);
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->hdrs);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, em_write);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, e);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	if (pthread_create(&e->th, NULL, em_main, e) != 0)
		return -1;
	e->started = true;
	return 0;
}

static void
em_request(struct emitter *e, long count)
{
	pthread_mutex_lock(&e->mu);
	e->count = count;
	e->has_job = true;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static void
em_free(struct emitter *e)
{
	if (e->started) {
		pthread_mutex_lock(&e->mu);
		e->quit = true;
		pthread_cond_signal(&e->cv);
		pthread_mutex_unlock(&e->mu);
		pthread_join(e->th, NULL);
		pthread_mutex_destroy(&e->mu);
		pthread_cond_destroy(&e->cv);
	}
	if (e->curl != NULL)
		curl_easy_cleanup(e->curl);
	curl_slist_free_all(e->hdrs);
	if (e->efd >= 0)
		close(e->efd);
	free(e->t_emit);
	free(e->last_id);
}

/* ---- connections ------------------------------------------------------- */

/* Keeps the first reason a socket was lost: "what number". */
static void
set_why(struct load *L, const char *what, long n)
{
	if (L->why[0] == '\0')
		snprintf(L->why, sizeof(L->why), "%s %ld", what, n);
}

static void
conn_close(struct load *L, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	free(c->part);
	free(c->msg);
	c->part = c->msg = NULL;
	c->part_len = c->msg_len = 0;
}

/* A socket lost before its snapshot: it counts as not held. */
static void
conn_fail(struct load *L, struct conn *c, const char *what, long err)
{
	bool opening = c->st != C_OPEN || !c->snap;

	conn_close(L, c);
	c->st = C_DEAD;
	if (opening) {
		L->inflight--;
		L->failed++;
		set_why(L, what, err);
	} else {
		L->closed_early++;
		set_why(L, what, err);
		if (L->pending > 0 && c->count < L->want)
			L->pending--;	/* never waits on a dead socket */
	}
}

static int
conn_open(struct load *L, struct conn *c)
{
	struct sockaddr_in sa;
	struct epoll_event ev;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)L->o.port);
	inet_pton(AF_INET, L->o.host, &sa.sin_addr);
	L->inflight++;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(L, c, "client-socket-errno", errno);
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	    errno != EINPROGRESS) {
		conn_fail(L, c, "connect-errno", errno);
		return -1;
	}
	c->st = C_CONNECTING;
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		conn_fail(L, c, "epoll-errno", errno);
		return -1;
	}
	return 0;
}

static void
conn_connected(struct load *L, struct conn *c)
{
	struct epoll_event ev;
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t n;

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err != 0) {
		conn_fail(L, c, "connect-errno", err);
		return;
	}
	n = send(c->fd, L->req[c->worker], L->req_len[c->worker],
	    MSG_NOSIGNAL);
	if (n != (ssize_t)L->req_len[c->worker]) {
		conn_fail(L, c, "send-errno", n < 0 ? errno : 0);
		return;
	}
	c->st = C_HANDSHAKE;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A diagnostic instead of a snapshot: its code becomes the reason. */
static void
diag_why(struct load *L, const char *m, size_t len)
{
	static const char key[] = "\"code\"";
	const char *p = memmem(m, len, key, sizeof(key) - 1), *q;
	const char *end = m + len;
	char what[96];

	snprintf(what, sizeof(what), "diagnostic-before-snapshot");
	if (p != NULL) {
		for (p += sizeof(key) - 1; p < end && (*p == ' ' || *p == ':' ||
		    *p == '"'); p++)
			;
		for (q = p; q < end && *q != '"' && q - p < 60; q++)
			;
		snprintf(what, sizeof(what), "diagnostic %.*s at",
		    (int)(q - p), p);
	}
	set_why(L, what, (long)L->held);
}

/* The cheap scan: "event_id" : "wo_<hex>" -> seq; 0 when absent. */
static uint64_t
scan_seq(const char *m, size_t len)
{
	static const char key[] = "\"event_id\"";
	const char *p = memmem(m, len, key, sizeof(key) - 1);
	const char *end = m + len;
	uint64_t v = 0;

	if (p == NULL)
		return 0;
	p += sizeof(key) - 1;
	while (p < end && (*p == ' ' || *p == ':'))
		p++;
	if (end - p < 5 || memcmp(p, "\"wo_", 4) != 0)
		return 0;
	for (p += 4; p < end && *p != '"'; p++) {
		int d = (*p >= '0' && *p <= '9') ? *p - '0' :
		    (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;

		if (d < 0)
			return 0;
		v = v * 16 + (uint64_t)d;
	}
	return v;
}

/* --json: the same answer through a full json-c parse. */
static uint64_t
json_seq(const char *m, size_t len, bool *is_diag)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *o, *env, *id, *kind;
	const char *s;
	uint64_t v = 0;

	o = json_tokener_parse_ex(tok, m, (int)len);
	json_tokener_free(tok);
	if (o == NULL)
		return 0;
	if (json_object_object_get_ex(o, "kind", &kind) &&
	    strcmp(json_object_get_string(kind), "diagnostic") == 0)
		*is_diag = true;
	if (json_object_object_get_ex(o, "envelope", &env) &&
	    json_object_object_get_ex(env, "event_id", &id) &&
	    (s = json_object_get_string(id)) != NULL &&
	    strncmp(s, "wo_", 3) == 0)
		v = strtoull(s + 3, NULL, 16);
	json_object_put(o);
	return v;
}

static void
on_message(struct load *L, struct conn *c, const char *m, size_t len,
    double t)
{
	bool diag = false;
	uint64_t seq = L->o.json ? json_seq(m, len, &diag) : scan_seq(m, len);

	if (seq == 0 && !L->o.json)
		diag = memmem(m, len, "\"diagnostic\"", 12) != NULL;
	if (diag) {
		L->diags++;
		if (!c->snap)
			diag_why(L, m, len);
		if (L->diag1[0] == '\0')
			snprintf(L->diag1, sizeof(L->diag1), "%.*s",
			    (int)(len < 150 ? len : 150), m);
		return;
	}
	if (!c->snap) {			/* the snapshot */
		c->snap = true;
		L->inflight--;
		L->held++;
		return;
	}
	if (seq == 0)
		return;
	if (seq <= c->last_seq)
		L->disorder++;
	c->last_seq = seq;
	c->count++;
	if (c->count == L->want && L->pending > 0) {
		c->t_reach = t;
		L->pending--;
	}
}

static void
send_pong(struct conn *c, const unsigned char *p, size_t n)
{
	unsigned char f[2 + 4 + 125];

	if (n > 125)
		return;
	f[0] = 0x8a;
	f[1] = (unsigned char)(0x80 | n);
	memset(f + 2, 0, 4);		/* a zero mask leaves the bytes as is */
	memcpy(f + 6, p, n);
	(void)send(c->fd, f, 6 + n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Consumes whole frames from buf; returns bytes used, -1 to drop. */
static ssize_t
parse_frames(struct load *L, struct conn *c, const unsigned char *buf,
    size_t len, double t)
{
	size_t off = 0;

	while (len - off >= 2) {
		const unsigned char *f = buf + off;
		unsigned op = f[0] & 0x0f;
		bool fin = (f[0] & 0x80) != 0;
		uint64_t plen = f[1] & 0x7f;
		size_t hl = 2;

		if (f[1] & 0x80) {
			conn_fail(L, c, "masked-server-frame", 0);
			return -1;
		}
		if (plen == 126) {
			if (len - off < 4)
				break;
			plen = ((uint64_t)f[2] << 8) | f[3];
			hl = 4;
		} else if (plen == 127) {
			int i;

			if (len - off < 10)
				break;
			for (plen = 0, i = 2; i < 10; i++)
				plen = (plen << 8) | f[i];
			hl = 10;
		}
		if (plen > LD_MSG_MAX) {
			conn_fail(L, c, "frame-too-large", (long)plen);
			return -1;
		}
		if (len - off < hl + plen)
			break;
		f += hl;
		off += hl + (size_t)plen;
		if (op == 0x8) {
			conn_fail(L, c, "close-frame", plen >= 2 ?
			    (long)((f[0] << 8) | f[1]) : 0);
			return -1;
		}
		if (op == 0x9) {
			send_pong(c, f, (size_t)plen);
			continue;
		}
		if (op != 0x1 && op != 0x0)
			continue;		/* pong, binary: ignored */
		if (fin && c->msg_len == 0) {
			on_message(L, c, (const char *)f, (size_t)plen, t);
			continue;
		}
		if (c->msg_len + plen > LD_MSG_MAX) {
			conn_fail(L, c, "message-too-large", 0);
			return -1;
		}
		c->msg = xrealloc(c->msg, c->msg_len + (size_t)plen + 1);
		memcpy(c->msg + c->msg_len, f, (size_t)plen);
		c->msg_len += (size_t)plen;
		if (fin) {
			on_message(L, c, c->msg, c->msg_len, t);
			c->msg_len = 0;
		}
	}
	return (ssize_t)off;
}

/* Upgrade answer: "HTTP/1.1 101" up to the blank line; returns the head
 * length, 0 when incomplete, -1 when refused (the connection is failed). */
static ssize_t
parse_head(struct load *L, struct conn *c, const char *buf, size_t len)
{
	const char *e = memmem(buf, len, "\r\n\r\n", 4);

	if (e == NULL) {
		if (len >= LD_HEAD_MAX) {
			conn_fail(L, c, "head-too-large", (long)len);
			return -1;
		}
		return 0;
	}
	if (len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0) {
		long code = len >= 12 ? strtol(buf + 9, NULL, 10) : 0;

		conn_fail(L, c, "upgrade-refused-http", code);
		return -1;
	}
	c->st = C_OPEN;
	return e + 4 - buf;
}

static void
conn_readable(struct load *L, struct conn *c)
{
	size_t have = c->part_len;
	ssize_t n, used = 0, u;
	double t;

	if (have > 0)
		memcpy(L->rbuf, c->part, have);
	n = read(c->fd, L->rbuf + have, LD_RBUF - have);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_fail(L, c, n == 0 ? "eof" : "read-errno",
		    n == 0 ? 0 : errno);
		return;
	}
	t = now_s();
	have += (size_t)n;
	if (c->st == C_HANDSHAKE) {
		used = parse_head(L, c, L->rbuf, have);
		if (used <= 0) {
			if (used == 0) {	/* keep the partial head */
				c->part = xrealloc(c->part, have);
				memcpy(c->part, L->rbuf, have);
				c->part_len = have;
			}
			return;
		}
	}
	u = parse_frames(L, c, (unsigned char *)L->rbuf + used,
	    have - (size_t)used, t);
	if (u < 0)
		return;
	used += u;
	c->part_len = have - (size_t)used;
	if (c->part_len > 0) {
		c->part = xrealloc(c->part, c->part_len);
		memcpy(c->part, L->rbuf + used, c->part_len);
	}
}

/* One pass of the loop: at most timeout_ms; opens more sockets while
 * fewer than o.inflight handshakes are under way. */
static void
loop_once(struct load *L, int timeout_ms)
{
	struct epoll_event ev[512];
	int i, n;

	while (L->next < L->o.conns && L->inflight < L->o.inflight)
		conn_open(L, &L->c[L->next++]);
	n = epoll_wait(L->ep, ev, 512, timeout_ms);
	for (i = 0; i < n; i++) {
		struct conn *c = ev[i].data.ptr;

		if (c == NULL) {		/* the emitter's eventfd */
			uint64_t v;

			if (read(L->em.efd, &v, sizeof(v)) == sizeof(v))
				L->emit_done = true;
			continue;
		}
		if (c->st == C_DEAD)
			continue;
		if (c->st == C_CONNECTING) {
			if (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				conn_connected(L, c);
			continue;
		}
		if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			conn_readable(L, c);
	}
}

/* ---- phases ------------------------------------------------------------ */

/* Opens every socket and waits for each snapshot; false when not all
 * could be held (L->why says why). */
static bool
phase_connect(struct load *L, double *connect_s)
{
	double t0 = now_s(), last = t0, end = t0 + L->o.timeout;
	unsigned prev = 0;

	/* Past 1% of the sockets lost the level cannot be held: stop there
	 * rather than wait for every remaining handshake to fail. */
	while (L->held + L->failed < L->o.conns &&
	    L->failed <= L->o.conns / 100) {
		double t = now_s();

		if (L->held + L->failed != prev) {
			prev = L->held + L->failed;
			last = t;
		}
		if (t > end || t - last > L->o.stall) {
			char what[48];

			if (t > end)
				snprintf(what, sizeof(what), "timeout-%.0fs-"
				    "reached-at", L->o.timeout);
			else
				snprintf(what, sizeof(what),
				    "no-answer-for-%.0fs-at", t - last);
			set_why(L, what, (long)L->held);
			break;
		}
		loop_once(L, 100);
	}
	*connect_s = now_s() - t0;
	return L->held == L->o.conns;
}

/* Emits count events per worker and waits until every socket reached
 * them (or max_s passed). */
static void
emit_and_wait(struct load *L, long count, double max_s)
{
	double end = now_s() + max_s;
	unsigned i;

	L->want += (uint64_t)count;
	L->pending = 0;
	for (i = 0; i < L->o.conns; i++)
		if (L->c[i].st == C_OPEN && L->c[i].count < L->want)
			L->pending++;
	L->emit_done = false;
	em_request(&L->em, count);
	while ((L->pending > 0 || !L->emit_done) && now_s() < end &&
	    L->em.err[0] == '\0')
		loop_once(L, 50);
	while (!L->emit_done && now_s() < end + 30)
		loop_once(L, 50);	/* never leave a POST running */
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
	long i;

	if (n == 0)
		return 0;
	i = (long)(p / 100.0 * (double)n + 0.5 + 0.5) - 1;
	if (i < 0)
		i = 0;
	if (i >= (long)n)
		i = (long)n - 1;
	return v[i];
}

/* ---- setup ------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: ws_load --connect HOST:PORT --path FMT "
	    "--workers W1[,W2...] --conns N --emit HOST:PORT\n"
	    "    [--token T] [--ws-token] [--lat-rounds R] [--burst K] "
	    "[--pid NAME=PID[,PID...]]...\n"
	    "    [--timeout S] [--stall S] [--inflight N] "
	    "[--count-port PORT] [--json]\n"
	    "FMT holds {W} where the worker id goes, e.g. "
	    "/v1/workers/{W}/events/ws\n");
}

static char **
split_workers(const char *s, unsigned *n)
{
	char *copy = xstrdup(s), *save = NULL, *tok;
	char **v = NULL;

	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = xstrdup(tok);
	}
	free(copy);
	return v;
}

static int
parse_pid(struct opts *o, const char *s)
{
	const char *eq = strchr(s, '=');
	struct procwatch *w;
	char *end;

	if (eq == NULL || eq == s || (size_t)(eq - s) >= sizeof(w->name) ||
	    o->npw >= LD_MAX_PIDS)
		return -1;
	w = &o->pw[o->npw++];
	memset(w, 0, sizeof(*w));
	memcpy(w->name, s, (size_t)(eq - s));
	for (s = eq + 1; *s != '\0' && w->npids < LD_MAX_PID_EACH; s = end) {
		w->pids[w->npids++] = (int)strtol(s, &end, 10);
		if (end == s || (*end != ',' && *end != '\0'))
			return -1;
		if (*end == ',')
			end++;
	}
	return w->npids > 0 ? 0 : -1;
}

static int
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"connect", 1, NULL, 'c'}, {"path", 1, NULL, 'p'},
		{"workers", 1, NULL, 'w'}, {"conns", 1, NULL, 'n'},
		{"emit", 1, NULL, 'e'}, {"token", 1, NULL, 't'},
		{"ws-token", 0, NULL, 'T'}, {"lat-rounds", 1, NULL, 'r'},
		{"burst", 1, NULL, 'b'}, {"pid", 1, NULL, 'P'},
		{"timeout", 1, NULL, 'o'}, {"stall", 1, NULL, 's'},
		{"inflight", 1, NULL, 'i'}, {"count-port", 1, NULL, 'C'},
		{"json", 0, NULL, 'j'}, {NULL, 0, NULL, 0}
	};
	const char *connect_to = NULL, *colon;
	int ch;

	memset(o, 0, sizeof(*o));
	o->conns = 1;
	o->rounds = 20;
	o->burst = 1000;
	o->timeout = 60;
	o->stall = 10;
	o->inflight = 200;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': connect_to = optarg; break;
		case 'p': o->path_fmt = optarg; break;
		case 'w': o->workers = split_workers(optarg, &o->nworkers);
			break;
		case 'n': o->conns = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'e': o->emit = optarg; break;
		case 't': o->token = optarg; break;
		case 'T': o->ws_token = true; break;
		case 'r': o->rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b': o->burst = strtol(optarg, NULL, 10); break;
		case 'P': if (parse_pid(o, optarg) != 0) return -1; break;
		case 'o': o->timeout = strtod(optarg, NULL); break;
		case 's': o->stall = strtod(optarg, NULL); break;
		case 'i': o->inflight = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'C': o->count_port = (int)strtol(optarg, NULL, 10); break;
		case 'j': o->json = true; break;
		default: return -1;
		}
	}
	if (connect_to == NULL || o->path_fmt == NULL || o->nworkers == 0 ||
	    o->emit == NULL || o->conns == 0 || o->inflight == 0 ||
	    optind != argc || strstr(o->path_fmt, "{W}") == NULL ||
	    (colon = strrchr(connect_to, ':')) == NULL ||
	    (size_t)(colon - connect_to) >= sizeof(o->host))
		return -1;
	memcpy(o->host, connect_to, (size_t)(colon - connect_to));
	o->port = (int)strtol(colon + 1, NULL, 10);
	return 0;
}

/* The fixed upgrade request for worker w (its path from --path). */
static char *
build_request(const struct opts *o, unsigned w, size_t *len)
{
	const char *at = strstr(o->path_fmt, "{W}");
	char *auth = NULL, *r;

	if (o->ws_token && o->token != NULL)
		auth = xasprintf("Authorization: Bearer %s\r\n", o->token);
	r = xasprintf("GET %.*s%s%s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n%s\r\n",
	    (int)(at - o->path_fmt), o->path_fmt, o->workers[w], at + 3,
	    o->host, o->port, auth ? auth : "");
	free(auth);
	*len = strlen(r);
	return r;
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
load_init(struct load *L)
{
	struct epoll_event ev;
	unsigned i;

	L->em.efd = -1;
	L->c = xcalloc(L->o.conns, sizeof(*L->c));
	for (i = 0; i < L->o.conns; i++) {
		L->c[i].fd = -1;
		L->c[i].worker = i % L->o.nworkers;
	}
	L->rbuf = xmalloc(LD_RBUF);
	L->req = xcalloc(L->o.nworkers, sizeof(*L->req));
	L->req_len = xcalloc(L->o.nworkers, sizeof(*L->req_len));
	for (i = 0; i < L->o.nworkers; i++)
		L->req[i] = build_request(&L->o, i, &L->req_len[i]);
	if ((L->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	if (em_init(&L->em, &L->o) != 0)
		return -1;
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	return epoll_ctl(L->ep, EPOLL_CTL_ADD, L->em.efd, &ev);
}

static void
load_free(struct load *L)
{
	unsigned i;

	em_free(&L->em);
	for (i = 0; L->c != NULL && i < L->o.conns; i++)
		conn_close(L, &L->c[i]);
	free(L->c);
	for (i = 0; L->req != NULL && i < L->o.nworkers; i++)
		free(L->req[i]);
	free(L->req);
	free(L->req_len);
	free(L->rbuf);
	if (L->ep > 0)
		close(L->ep);
	for (i = 0; i < L->o.nworkers; i++)
		free(L->o.workers[i]);
	free(L->o.workers);
}

/* ---- measuring --------------------------------------------------------- */

struct results {
	double connect_s, p50, p99, burst_s, eps, cpu_cli, cpu_box;
	size_t nlat;
	uint64_t got, lost;
	long rt_socks;
};

static void
measure_latency(struct load *L, struct results *r)
{
	double *lat = xcalloc((size_t)L->o.rounds * L->o.conns + 1,
	    sizeof(*lat));
	unsigned k, i;

	for (k = 0; k < L->o.rounds && L->em.err[0] == '\0'; k++) {
		emit_and_wait(L, 1, LD_ROUND_S);
		if (L->pending > 0)
			break;
		for (i = 0; i < L->o.conns; i++) {
			struct conn *c = &L->c[i];

			if (c->st == C_OPEN && c->count >= L->want)
				lat[r->nlat++] = c->t_reach -
				    L->em.t_emit[c->worker];
		}
	}
	qsort(lat, r->nlat, sizeof(*lat), cmp_double);
	r->p50 = pct(lat, r->nlat, 50) * 1e3;
	r->p99 = pct(lat, r->nlat, 99) * 1e3;
	free(lat);
}

static void
measure_burst(struct load *L, struct results *r, double deadline)
{
	uint64_t base = 0, after = 0;
	double tb, wall, me0, box0, last = 0;
	unsigned i;
	int k;

	for (k = 0; k < L->o.npw; k++)
		L->o.pw[k].cpu0 = pw_cpu(&L->o.pw[k]);
	me0 = self_cpu();
	box0 = box_cpu();
	for (i = 0; i < L->o.conns; i++)
		base += L->c[i].count;
	tb = now_s();
	if (L->o.burst > 0 && L->em.err[0] == '\0')
		emit_and_wait(L, L->o.burst, deadline - tb > 1 ?
		    deadline - tb : 1);
	for (i = 0; i < L->o.conns; i++) {
		after += L->c[i].count;
		if (L->c[i].t_reach > last)
			last = L->c[i].t_reach;
	}
	wall = now_s() - tb;
	if (wall < 1e-3)	/* no burst: no CPU share to speak of */
		wall = 1e30;
	r->got = after - base;
	r->burst_s = last > tb ? last - tb : 0;
	r->eps = r->burst_s > 0 ? (double)r->got / r->burst_s : 0;
	r->cpu_cli = (self_cpu() - me0) / wall * 100;
	r->cpu_box = (box_cpu() - box0) / wall * 100;
	for (k = 0; k < L->o.npw; k++) {
		struct procwatch *w = &L->o.pw[k];

		w->cpu0 = (pw_cpu(w) - w->cpu0) / wall * 100;
		w->rss1 = pw_kb(w, "VmRSS");
		w->hwm1 = pw_kb(w, "VmHWM");
	}
}

/* Exactly once: each socket's count and last sequence number match what
 * the emits of its worker returned. */
static void
check_delivery(struct load *L, struct results *r)
{
	uint64_t expect = L->want;
	unsigned i;

	for (i = 0; i < L->o.conns; i++) {
		struct conn *c = &L->c[i];

		if (c->count < expect)
			r->lost += expect - c->count;
		else if (c->count > expect)
			L->disorder += c->count - expect;
		if (L->em.err[0] == '\0' && c->count == expect &&
		    (int64_t)c->last_seq != L->em.last_id[c->worker])
			L->disorder++;
	}
}

static void
print_line(struct load *L, const struct results *r)
{
	int k;
	char *p;

	for (p = L->why; *p != '\0'; p++)	/* one token: '+' for ' ' */
		if (*p == ' ')
			*p = '+';
	printf("WSBENCH conns=%u workers=%u held=%u connect_s=%.2f "
	    "lat_n=%zu lat_p50_ms=%.2f lat_p99_ms=%.2f burst=%ld "
	    "events=%" PRIu64 " burst_s=%.3f eps=%.0f cpu_client=%.0f "
	    "cpu_box=%.0f rt_socks=%ld", L->o.conns, L->o.nworkers, L->held,
	    r->connect_s, r->nlat, r->p50, r->p99, L->o.burst, r->got,
	    r->burst_s, r->eps, r->cpu_cli, r->cpu_box, r->rt_socks);
	for (k = 0; k < L->o.npw; k++) {
		const struct procwatch *w = &L->o.pw[k];

		printf(" cpu_%s=%.0f rss0_%s=%ld rss_%s=%ld hwm_%s=%ld",
		    w->name, w->cpu0, w->name, w->rss0, w->name, w->rss1,
		    w->name, w->hwm1);
	}
	printf(" lost=%" PRIu64 " diags=%" PRIu64 " disorder=%" PRIu64
	    " ext=none parse=%s why=%s\n", r->lost, L->diags, L->disorder,
	    L->o.json ? "json-c" : "scan", L->why[0] ? L->why : "-");
	fflush(stdout);
}

static int
run(struct load *L)
{
	struct results r;
	double deadline;
	int k, rc = 0;

	memset(&r, 0, sizeof(r));
	r.rt_socks = -1;
	if (!phase_connect(L, &r.connect_s)) {
		print_line(L, &r);
		fprintf(stderr, "ws_load: held %u of %u sockets: %s\n",
		    L->held, L->o.conns, L->why);
		return 3;
	}
	deadline = now_s() + L->o.timeout;
	{	/* let the relay settle, as a browser would idle */
		double t = now_s() + 0.2;

		while (now_s() < t)
			loop_once(L, 50);
	}
	if (L->o.count_port > 0)
		r.rt_socks = count_runtime_socks(L->o.count_port);
	for (k = 0; k < L->o.npw; k++)
		L->o.pw[k].rss0 = pw_kb(&L->o.pw[k], "VmRSS");
	measure_latency(L, &r);
	measure_burst(L, &r, deadline);
	check_delivery(L, &r);
	print_line(L, &r);
	if (L->em.err[0] != '\0') {
		fprintf(stderr, "ws_load: %s\n", L->em.err);
		rc = 1;
	}
	if (r.lost || L->diags || L->disorder || L->closed_early) {
		fprintf(stderr, "ws_load: lost %" PRIu64 ", diagnostics %"
		    PRIu64 " (first: %s), out of order/repeated %" PRIu64
		    ", closed early %" PRIu64 " (%s)\n", r.lost, L->diags,
		    L->diag1[0] ? L->diag1 : "-", L->disorder,
		    L->closed_early, L->why[0] ? L->why : "-");
		rc = 1;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct load L;
	int rc = 2;

	memset(&L, 0, sizeof(L));
	L.ep = -1;
	if (parse_opts(&L.o, argc, argv) != 0) {
		usage();
		return 2;
	}
	raise_fd_limit();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (load_init(&L) != 0) {
		fprintf(stderr, "ws_load: setup: %s\n", strerror(errno));
		goto out;
	}
	rc = run(&L);
out:
	load_free(&L);
	curl_global_cleanup();
	return rc;
}
