/*
 * route — browser API path router (see route.h). The raw path is split on
 * '/' first; only then is each id segment percent-decoded (by libcurl) and
 * checked, so an encoded '/' or NUL can only ever make an id invalid, never
 * move the request to another route or remote path.
 */
#include "route.h"

#include <curl/curl.h>
#include <string.h>

#define ROUTE_MAX_SEGMENTS 6
/* A worker id is at most 256 bytes decoded, so at most 768 encoded. */
#define ROUTE_MAX_SEGMENT_RAW (IDS_WORKER_ID_MAX * 3)

struct route_seg {
	const char *p;
	size_t n;
};

static int
route_seg_is(const struct route_seg *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->n == n && memcmp(s->p, lit, n) == 0;
}

/* Decodes seg into out (cap bytes incl. NUL). Returns the decoded length,
 * or -1 if it does not fit. */
static long
route_decode(const struct route_seg *seg, char *out, size_t cap)
{
	char *dec;
	int declen = 0;
	long ret = -1;

	if (seg->n > ROUTE_MAX_SEGMENT_RAW)
		return -1;
	/* The handle argument is unused by libcurl >= 7.82. */
	dec = curl_easy_unescape(NULL, seg->p, (int)seg->n, &declen);
	if (dec == NULL)
		return -1;
	if (declen >= 0 && (size_t)declen < cap) {
		memcpy(out, dec, (size_t)declen);
		out[declen] = '\0';
		ret = declen;
	}
	curl_free(dec);
	return ret;
}

static enum route_err
route_runtime_id(const struct route_seg *seg, struct route *out)
{
	long n = route_decode(seg, out->runtime_id, sizeof(out->runtime_id));

	if (n < 0 || (size_t)n != strlen(out->runtime_id) ||
	    !ids_runtime_id_valid(out->runtime_id)) {
		out->runtime_id[0] = '\0';
		return ROUTE_ERR_BAD_ID;
	}
	return ROUTE_OK;
}

static enum route_err
route_worker_id(const struct route_seg *seg, struct route *out)
{
	long n = route_decode(seg, out->worker_id, sizeof(out->worker_id));

	if (n < 0 || !ids_worker_id_valid(out->worker_id, (size_t)n)) {
		out->worker_id[0] = '\0';
		out->worker_id_len = 0;
		return ROUTE_ERR_BAD_ID;
	}
	out->worker_id_len = (size_t)n;
	return ROUTE_OK;
}

static enum route_kind
route_worker_action(const struct route_seg *seg, size_t nseg)
{
	if (nseg == 4)
		return ROUTE_WORKER;
	if (nseg == 5) {
		if (route_seg_is(&seg[4], "input"))
			return ROUTE_WORKER_INPUT;
		if (route_seg_is(&seg[4], "stop"))
			return ROUTE_WORKER_STOP;
		if (route_seg_is(&seg[4], "cancel"))
			return ROUTE_WORKER_CANCEL;
		if (route_seg_is(&seg[4], "transcript"))
			return ROUTE_WORKER_TRANSCRIPT;
	}
	if (nseg == 6 && route_seg_is(&seg[4], "events") &&
	    route_seg_is(&seg[5], "ws"))
		return ROUTE_WORKER_EVENTS_WS;
	return ROUTE_NONE;
}

/* Which route the segment list names, ignoring the ids' validity. */
static enum route_kind
route_match(const struct route_seg *seg, size_t nseg)
{
	if (nseg == 1 && route_seg_is(&seg[0], "health"))
		return ROUTE_HEALTH;
	if (nseg == 1 && route_seg_is(&seg[0], "workers"))
		return ROUTE_WORKERS_ALL;
	if (!route_seg_is(&seg[0], "runtimes"))
		return ROUTE_NONE;
	if (nseg == 1)
		return ROUTE_RUNTIMES;
	if (nseg == 2)
		return ROUTE_RUNTIME;
	if (!route_seg_is(&seg[2], "workers"))
		return ROUTE_NONE;
	if (nseg == 3)
		return ROUTE_RUNTIME_WORKERS;
	return route_worker_action(seg, nseg);
}

static size_t
route_split(const char *p, size_t len, struct route_seg *seg, size_t max)
{
	size_t nseg = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		if (i == start || nseg == max)
			return 0;	/* empty segment or too many */
		seg[nseg].p = p + start;
		seg[nseg].n = i - start;
		nseg++;
		start = i + 1;
	}
	return nseg;
}

enum route_err
route_parse(const char *prefix, const char *path, size_t len,
    struct route *out)
{
	struct route_seg seg[ROUTE_MAX_SEGMENTS];
	size_t plen = strlen(prefix), nseg;
	enum route_err err;

	memset(out, 0, sizeof(*out));
	if (len < plen + 2 || memcmp(path, prefix, plen) != 0 ||
	    path[plen] != '/')
		return ROUTE_ERR_NOT_FOUND;
	if (memchr(path, '\0', len) != NULL)
		return ROUTE_ERR_NOT_FOUND;
	nseg = route_split(path + plen + 1, len - plen - 1, seg,
	    ROUTE_MAX_SEGMENTS);
	if (nseg == 0)
		return ROUTE_ERR_NOT_FOUND;
	out->kind = route_match(seg, nseg);
	if (out->kind == ROUTE_NONE)
		return ROUTE_ERR_NOT_FOUND;
	if (nseg >= 2 && (err = route_runtime_id(&seg[1], out)) != ROUTE_OK)
		return err;
	if (nseg >= 4 && (err = route_worker_id(&seg[3], out)) != ROUTE_OK)
		return err;
	return ROUTE_OK;
}

const char *
route_allow(enum route_kind kind)
{
	switch (kind) {
	case ROUTE_NONE:
		return "";
	case ROUTE_RUNTIME_WORKERS:
		return "GET, HEAD, POST";
	case ROUTE_WORKER_INPUT:
	case ROUTE_WORKER_STOP:
	case ROUTE_WORKER_CANCEL:
		return "POST";
	default:
		return "GET, HEAD";
	}
}

int
route_method_allowed(enum route_kind kind, const char *method)
{
	const char *allow = route_allow(kind);
	size_t n = strlen(method);

	if (n == 0)
		return 0;
	/* allow is a short ", "-separated list of upper-case tokens. */
	for (const char *p = allow; (p = strstr(p, method)) != NULL; p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

const char *
route_name(enum route_kind kind)
{
	static const char *const names[] = {
		[ROUTE_NONE] = "none",
		[ROUTE_HEALTH] = "health",
		[ROUTE_RUNTIMES] = "runtimes",
		[ROUTE_RUNTIME] = "runtime",
		[ROUTE_WORKERS_ALL] = "workers",
		[ROUTE_RUNTIME_WORKERS] = "runtime_workers",
		[ROUTE_WORKER] = "worker",
		[ROUTE_WORKER_INPUT] = "worker_input",
		[ROUTE_WORKER_STOP] = "worker_stop",
		[ROUTE_WORKER_CANCEL] = "worker_cancel",
		[ROUTE_WORKER_TRANSCRIPT] = "worker_transcript",
		[ROUTE_WORKER_EVENTS_WS] = "worker_events_ws",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]))
		return "none";
	return names[kind];
}
