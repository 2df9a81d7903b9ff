/*
 * Fuzz target: wrg-wsproxy's checks on a browser's WebSocket upgrade
 * (wsproxy/upgrade.c): the raw request path (as front.c keeps it)
 * through the shared router, the Origin/Host/scheme rule, and the
 * runtime path built from the accepted ids and the browser's ?cursor=.
 *
 * Input layout:
 *   byte 0  bit 0: Origin header present; bit 1: Host header present;
 *           bit 2: the registry has an allowed_origins list;
 *           bit 3: a cursor is passed on;
 *           bits 4-5: forwarded scheme: 0 none, 1 "http", 2 "https",
 *           3 "-" (one the front did not understand)
 *   then    raw-path NUL Origin NUL Host NUL cursor
 *
 * Invariants beyond "no crash, no leak":
 *  - an accepted upgrade is the events route with ids that satisfy the
 *    id rules; refusals map to 400/403/404 with a fixed JSON body;
 *  - no Origin is allowed; with an allowed_origins list only a listed
 *    one is; without a list an Origin is allowed exactly when it names
 *    the forwarded scheme (plain http when none) and the Host's host and
 *    port (the Origin's port defaulting by its scheme, a Host without a
 *    port standing for that default too);
 *  - the runtime path is base_path "/v1/workers/" + one escaped segment
 *    that decodes to exactly the accepted worker id + "/events/ws", and
 *    the cursor (when passed) is one escaped query value that decodes
 *    back to the cursor.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frame.h"
#include "fuzz_check.h"
#include "registry.h"
#include "upgrade.h"
#include "wjson.h"
#include "wlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_open[] =
    "{\"runtimes\": [{\"id\": \"rt-a\","
    " \"base_url\": \"http://127.0.0.1:45678/base/p\"}]}";
static const char conf_list[] =
    "{\"allowed_origins\": [\"https://panel.example\"],"
    " \"runtimes\": [{\"id\": \"rt-a\","
    " \"base_url\": \"http://127.0.0.1:45678/base/p\"}]}";

static struct registry *regs[2];

static void
check_upstream_path(const struct registry_runtime *rtc, const struct
    route *r, const char *cursor)
{
	char *path = upgrade_upstream_path(rtc->base_path, r->worker_id,
	    r->worker_id_len, cursor);
	const char *p, *end;
	char dec[FRAME_CURSOR_MAX * 3 + IDS_WORKER_ID_MAX * 3 + 1];
	size_t n, bl = strlen(rtc->base_path);

	FUZZ_CHECK(path != NULL, "no upstream path");
	FUZZ_CHECK(strncmp(path, rtc->base_path, bl) == 0 &&
	    strncmp(path + bl, "/v1/workers/", 12) == 0, "path %s", path);
	p = path + bl + 12;
	end = strchr(p, '/');
	FUZZ_CHECK(end != NULL, "path %s", path);
	n = fuzz_decode_segment(p, (size_t)(end - p), dec, sizeof(dec), path);
	FUZZ_CHECK(n == r->worker_id_len && memcmp(dec, r->worker_id, n) ==
	    0, "segment of %s is not the worker id", path);
	FUZZ_CHECK(strncmp(end, "/events/ws", 10) == 0, "path %s", path);
	end += 10;
	if (cursor == NULL) {
		FUZZ_CHECK(*end == '\0', "path %s", path);
	} else {
		FUZZ_CHECK(strncmp(end, "?cursor=", 8) == 0, "path %s", path);
		end += 8;
		n = fuzz_decode_segment(end, strlen(end), dec, sizeof(dec), path);
		FUZZ_CHECK(n == strlen(cursor) && memcmp(dec, cursor, n) == 0,
		    "cursor of %s", path);
	}
	free(path);
}

/* A second, independent model of the Origin rule: "host[:port]" split
 * into host (lower-cased, brackets kept) and port (dflt when absent).
 * false when malformed. */
static bool
ref_authority(const char *a, unsigned dflt, char *host, size_t cap,
    unsigned *port)
{
	const char *rb = a[0] == '[' ? strchr(a, ']') : NULL, *c;
	size_t hl, i;
	unsigned long v;

	if (a[0] == '[' && !rb)
		return false;
	if (rb) {
		c = rb[1] ? rb + 1 : NULL;
		if (c && *c != ':')
			return false;
	} else {
		c = strchr(a, ':');
		if (c && strchr(c + 1, ':'))
			return false;
	}
	hl = c ? (size_t)(c - a) : strlen(a);
	if (hl == 0 || hl >= cap)
		return false;
	for (i = 0; i < hl; i++)
		host[i] = (char)tolower((unsigned char)a[i]);
	host[hl] = '\0';
	if (!c) {
		*port = dflt;
		return dflt != 0;
	}
	if (!c[1] || strlen(c + 1) > 5 ||
	    strspn(c + 1, "0123456789") != strlen(c + 1))
		return false;
	v = strtoul(c + 1, NULL, 10);
	if (v == 0 || v > 65535)
		return false;
	*port = (unsigned)v;
	return true;
}

static bool
ref_same_origin(const char *origin, const char *host, const char *proto)
{
	char oh[600], hh[600];
	unsigned op, hp, dflt = 0;
	const char *auth;

	if (!proto)
		proto = "http";
	if (strncasecmp(origin, proto, strlen(proto)) != 0 ||
	    strncmp(origin + strlen(proto), "://", 3) != 0)
		return false;
	if (strncasecmp(origin, "http://", 7) == 0)
		dflt = 80, auth = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		dflt = 443, auth = origin + 8;
	else
		auth = strstr(origin, "://") ? strstr(origin, "://") + 3 : NULL;
	if (!auth || !host || strchr(auth, '/'))
		return false;
	return ref_authority(auth, dflt, oh, sizeof(oh), &op) &&
	    ref_authority(host, dflt, hh, sizeof(hh), &hp) &&
	    strcmp(oh, hh) == 0 && op == hp;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t left;
	char *path, *origin, *host, *cursor;
	const char *o, *h, *c, *proto;
	static const char *const protos[] = { NULL, "http", "https", "-" };
	const struct registry *reg;
	struct route r;
	enum upgrade_result res;
	struct json_object *body;
	char *text;
	unsigned st;

	if (size < 1)
		return 0;
	if (regs[0] == NULL) {
		char *e = NULL;

		wlog_init("fuzz_wsproxy_upgrade", WLOG_ERR);
		regs[0] = registry_load_buffer("open.conf", conf_open,
		    strlen(conf_open), &e);
		FUZZ_CHECK(regs[0] != NULL, "config: %s", e ? e : "-");
		regs[1] = registry_load_buffer("list.conf", conf_list,
		    strlen(conf_list), &e);
		FUZZ_CHECK(regs[1] != NULL, "config: %s", e ? e : "-");
	}
	reg = regs[(data[0] >> 2) & 1];
	left = size - 1;
	path = fuzz_take_field(&p, &left);
	origin = fuzz_take_field(&p, &left);
	host = fuzz_take_field(&p, &left);
	cursor = strndup((const char *)p, left);
	if (cursor == NULL)
		abort();
	o = data[0] & 1 ? origin : NULL;
	h = data[0] & 2 ? host : NULL;
	proto = protos[(data[0] >> 4) & 3];

	memset(&r, 0, sizeof(r));
	res = upgrade_check(reg, path, strlen(path), o, h, proto, &r);
	st = (unsigned)apierr_status(upgrade_refusal(res));
	text = apierr_body(upgrade_refusal(res), "fuzz-request");
	body = wjson_parse(text, strlen(text), WJSON_MAX_DEPTH);
	free(text);
	FUZZ_CHECK(body != NULL, "refusal body");
	json_object_put(body);
	switch (res) {
	case UPGRADE_OK:
		FUZZ_CHECK(st == 200, "status %u", st);
		FUZZ_CHECK(r.kind == ROUTE_WORKER_EVENTS_WS, "route %s",
		    route_name(r.kind));
		FUZZ_CHECK(ids_runtime_id_valid(r.runtime_id), "runtime id");
		FUZZ_CHECK(ids_worker_id_valid(r.worker_id, r.worker_id_len),
		    "worker id");
		if (o != NULL && reg->allowed_origin_count > 0) {
			bool listed = false;

			for (size_t i = 0; i < reg->allowed_origin_count; i++)
				listed = listed || strcasecmp(o,
				    reg->allowed_origins[i]) == 0;
			FUZZ_CHECK(listed, "unlisted Origin %s allowed", o);
		} else if (o != NULL) {
			FUZZ_CHECK(h != NULL && ref_same_origin(o, h, proto),
			    "Origin %s allowed for Host %s", o,
			    h ? h : "(none)");
		}
		c = data[0] & 8 && frame_cursor_valid(cursor) ? cursor : NULL;
		check_upstream_path(&reg->runtimes[0], &r, c);
		break;
	case UPGRADE_BAD_ID:
		FUZZ_CHECK(st == 400, "status %u", st);
		break;
	case UPGRADE_FORBIDDEN:
		FUZZ_CHECK(st == 403 && o != NULL, "403 without Origin");
		FUZZ_CHECK(reg->allowed_origin_count > 0 ||
		    !ref_same_origin(o, h, proto),
		    "Origin %s refused for Host %s",
		    o, h ? h : "(none)");
		break;
	case UPGRADE_NOT_FOUND:
		FUZZ_CHECK(st == 404, "status %u", st);
		break;
	default:
		FUZZ_CHECK(0, "upgrade_check returned %d", (int)res);
	}
	free(path);
	free(origin);
	free(host);
	free(cursor);
	return 0;
}
