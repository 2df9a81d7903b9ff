/*
 * srt_ws — see srt_ws.h. The lws context has no listener; a scheduled
 * timer keeps lws_service() returning every few ms so that every wait
 * here can check its deadline. A socket's frames are owned by its
 * struct srt_ws until srt_ws_free().
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libwebsockets.h>

#include "srt_harness.h"
#include "srt_ws.h"
#include "wjson.h"
#include "xalloc.h"

#define MAX_FRAME (16u << 20)

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
	struct srt_ws *c = lws_get_opaque_user_data(wsi);

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
		c->state = SRT_WS_OPEN;
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		c->state = SRT_WS_FAILED;
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
			if (c->n_frames < SRT_MAX_FRAMES)
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
		c->state = SRT_WS_CLOSED;
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
service_until(struct srt_ws *c, size_t frames, long timeout_ms)
{
	long long deadline = srt_now_ms() + timeout_ms;

	while (srt_now_ms() < deadline) {
		if (c->state == SRT_WS_FAILED || c->state == SRT_WS_CLOSED)
			return;
		if (frames > 0 && c->n_frames >= frames)
			return;
		if (frames == 0 && c->state == SRT_WS_OPEN && !c->want_close)
			return;
		lws_service(cctx, 0);
	}
}

/* Services for ms milliseconds no matter what arrives. */
void
srt_service_for(long ms)
{
	long long deadline = srt_now_ms() + ms;

	while (srt_now_ms() < deadline)
		lws_service(cctx, 0);
}

/* Opens path (with query) on rt; waits ≤5 s for OPEN or failure. */
struct srt_ws *
srt_ws_open(struct srt_rt *rt, const char *path, const char *token)
{
	struct lws_client_connect_info i;
	struct srt_ws *c = xcalloc(1, sizeof(*c));
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
	    SRT_WS_CONNECTING)
		c->state = SRT_WS_FAILED;
	service_until(c, 0, 5000);
	return c;
}

/* Waits until at least n frames arrived (or closed / timeout). */
size_t
srt_ws_wait(struct srt_ws *c, size_t n, long timeout_ms)
{
	service_until(c, n, timeout_ms);
	return c->n_frames;
}

/* Waits ≤timeout for the socket to be closed by the peer. */
bool
srt_ws_wait_closed(struct srt_ws *c, long timeout_ms)
{
	long long deadline = srt_now_ms() + timeout_ms;

	while (srt_now_ms() < deadline && c->state != SRT_WS_CLOSED &&
	    c->state != SRT_WS_FAILED)
		lws_service(cctx, 0);
	return c->state == SRT_WS_CLOSED || c->state == SRT_WS_FAILED;
}

void
srt_ws_send(struct srt_ws *c, const char *text)
{
	free(c->to_send);
	c->to_send = xstrdup(text);
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
}

void
srt_ws_ping(struct srt_ws *c)
{
	c->want_ping = true;
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
}

void
srt_ws_free(struct srt_ws *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->wsi != NULL && c->state == SRT_WS_OPEN) {
		c->want_close = true;
		lws_callback_on_writable(c->wsi);
		srt_ws_wait_closed(c, 3000);
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
struct json_object *
srt_frame(struct srt_ws *c, size_t i)
{
	if (i >= c->n_frames)
		return NULL;
	return wjson_parse(c->frames[i], strlen(c->frames[i]),
	    WJSON_MAX_DEPTH);
}

bool
srt_frame_is_diag(struct srt_ws *c, size_t i, const char *code)
{
	struct json_object *f = srt_frame(c, i);
	bool ok = srt_streq(srt_jstr(f, "kind"), "diagnostic") &&
	    srt_streq(srt_jstr(f, "diagnostic.code"), code) &&
	    srt_jstr(f, "diagnostic.message") != NULL;

	json_object_put(f);
	return ok;
}

bool
srt_frame_is_snapshot(struct srt_ws *c, size_t i,
    const char *worker_id)
{
	struct json_object *f = srt_frame(c, i);
	const char *cur = srt_jstr(f, "envelope.cursor");
	const char *eid = srt_jstr(f, "envelope.event_id");
	bool ok = srt_streq(srt_jstr(f, "kind"), "event") && cur != NULL &&
	    eid != NULL && strncmp(eid, "snapshot:", 9) == 0 &&
	    strcmp(eid + 9, cur) == 0 &&
	    srt_streq(srt_jstr(f, "envelope.worker_id"), worker_id) &&
	    srt_streq(srt_jstr(f, "envelope.payload.event"), "snapshot") &&
	    json_object_is_type(srt_jget(f, "envelope.payload.data.entries"),
	    json_type_array) &&
	    json_object_is_type(srt_jget(f, "envelope.payload.data.greeting"),
	    json_type_object) &&
	    srt_jstr(f, "envelope.payload.data.status") != NULL;

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
int64_t
srt_frame_event(struct srt_ws *c, size_t i, char *ev, size_t evlen)
{
	struct json_object *f = srt_frame(c, i);
	const char *cur = srt_jstr(f, "envelope.cursor");
	int64_t n = -1;

	if (srt_streq(srt_jstr(f, "kind"), "event") &&
	    srt_streq(cur, srt_jstr(f, "envelope.event_id"))) {
		n = cursor_num(cur);
		if (ev != NULL)
			snprintf(ev, evlen, "%s",
			    srt_jstr(f, "envelope.payload.event") ?
			    srt_jstr(f, "envelope.payload.event") : "");
	}
	json_object_put(f);
	return n;
}

struct srt_ws *
srt_ws_resume(struct srt_rt *rt, const char *worker_id, int64_t seq,
    const char *token)
{
	char path[512];

	snprintf(path, sizeof(path), "/v1/workers/%s/events/ws?cursor=wo_%016"
	    PRIx64, worker_id, (uint64_t)seq);
	return srt_ws_open(rt, path, token);
}

bool
srt_ws_init(void)
{
	struct lws_context_creation_info info;

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = client_protocols;
	info.gid = -1;
	info.uid = -1;
	cctx = lws_create_context(&info);
	if (cctx == NULL)
		return false;
	lws_sul_schedule(cctx, 0, &wake_sul, wake, 5 * LWS_US_PER_MS);
	return true;
}

void
srt_ws_finish(void)
{
	if (cctx == NULL)
		return;
	lws_sul_cancel(&wake_sul);
	lws_context_destroy(cctx);
	cctx = NULL;
}
