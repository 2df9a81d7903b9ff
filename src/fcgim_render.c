/*
 * fcgim_render — the metrics request of wrg.fcgi (fcgim.h): sums every
 * live process's slot of the shared metrics file into Prometheus text.
 * Split from fcgim.c (the file's setup and the request path); both share
 * fcgim_int.h. Reads only, without locks (see fcgim.c on why a scrape
 * may see a request half counted).
 */
#include "fcgim.h"
#include "fcgim_int.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"
#include "route.h"
#include "xalloc.h"

static const double fcgim_bounds[FCGIM_NB] = { 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

struct fcgim_pair {
	uint64_t key, n;
};

static int
fcgim_pair_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct fcgim_pair *)a)->key;
	uint64_t y = ((const struct fcgim_pair *)b)->key;

	return x < y ? -1 : x > y;
}

static void
fcgim_render_requests(struct fcgim *m, struct promtext *pt, unsigned slots,
    uint32_t nrt)
{
	struct fcgim_pair *v = xcalloc((size_t)slots * FCGIM_SERIES + 1,
	    sizeof(*v));
	size_t n = 0;
	uint64_t dropped = 0;

	for (unsigned s = 0; s < slots; s++) {
		struct fcgim_slot *sl = fcgim_slot_at(m, s);

		dropped += atomic_load_explicit(&sl->dropped,
		    memory_order_relaxed);
		for (size_t i = 0; i < FCGIM_SERIES; i++) {
			uint64_t k = atomic_load_explicit(&sl->series[i].key,
			    memory_order_relaxed);

			if (k == 0)
				continue;
			v[n].key = k;
			v[n++].n = atomic_load_explicit(&sl->series[i].n,
			    memory_order_relaxed);
		}
	}
	qsort(v, n, sizeof(*v), fcgim_pair_cmp);
	promtext_family(pt, "wrg_fcgi_requests_total", "counter",
	    "Browser API requests answered, by route, HTTP status and "
	    "runtime, over every wrg.fcgi process.");
	for (size_t i = 0; i < n; i++) {
		uint64_t k = v[i].key, sum = v[i].n;
		unsigned g = (unsigned)(k & 0xffffff);
		char status[8];
		const char *labels[] = { "route",
			route_name((enum route_kind)((k >> 40) & 0xff)),
			"status", status, "runtime",
			g > 0 && g <= nrt ? m->hdr->rt_id[g - 1] : NULL, NULL };

		while (i + 1 < n && v[i + 1].key == k)
			sum += v[++i].n;
		snprintf(status, sizeof(status), "%u",
		    (unsigned)((k >> 24) & 0xffff));
		promtext_u64(pt, "wrg_fcgi_requests_total", labels, sum);
	}
	promtext_family(pt, "wrg_fcgi_metrics_dropped_total", "counter",
	    "Requests not counted by route because the series table of a "
	    "process slot was full.");
	promtext_u64(pt, "wrg_fcgi_metrics_dropped_total", NULL, dropped);
	free(v);
}

static void
fcgim_render_runtimes(struct fcgim *m, struct promtext *pt, unsigned slots,
    uint32_t nrt)
{
	static const enum apierr types[] = { APIERR_RUNTIME_REJECTED,
		APIERR_RUNTIME_UNSUPPORTED, APIERR_RUNTIME_UNREACHABLE,
		APIERR_RUNTIME_AUTH_FAILED, APIERR_RUNTIME_TLS_FAILED,
		APIERR_RUNTIME_BAD_RESPONSE, APIERR_RUNTIME_ERROR,
		APIERR_RUNTIME_TIMEOUT };
	uint64_t counts[FCGIM_NB + 1];

	promtext_family(pt, "wrg_fcgi_upstream_duration_seconds",
	    "histogram", "Time of one call to a runtime, by runtime.");
	for (uint32_t g = 0; g < nrt; g++) {
		const char *labels[] = { "runtime", m->hdr->rt_id[g], NULL };
		uint64_t sum_us = 0;

		memset(counts, 0, sizeof(counts));
		for (unsigned s = 0; s < slots; s++) {
			struct fcgim_rt *r = &fcgim_slot_at(m, s)->rt[g];

			for (size_t b = 0; b <= FCGIM_NB; b++)
				counts[b] += atomic_load_explicit(
				    &r->bucket[b], memory_order_relaxed);
			sum_us += atomic_load_explicit(&r->sum_us,
			    memory_order_relaxed);
		}
		promtext_histogram(pt, "wrg_fcgi_upstream_duration_seconds",
		    labels, fcgim_bounds, FCGIM_NB, counts,
		    (double)sum_us / 1e6);
	}
	promtext_family(pt, "wrg_fcgi_upstream_errors_total", "counter",
	    "Calls to a runtime that failed, by runtime and error code "
	    "(the browser API's runtime_* codes).");
	for (uint32_t g = 0; g < nrt; g++) {
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			const char *labels[] = { "runtime", m->hdr->rt_id[g],
				"type", apierr_code(types[t]), NULL };
			uint64_t n = 0;

			for (unsigned s = 0; s < slots; s++)
				n += atomic_load_explicit(&fcgim_slot_at(m,
				    s)->rt[g].err[types[t]],
				    memory_order_relaxed);
			promtext_u64(pt, "wrg_fcgi_upstream_errors_total",
			    labels, n);
		}
	}
}

char *
fcgim_render(struct fcgim *m, size_t *len)
{
	struct promtext pt;
	unsigned slots, procs = 0;
	uint32_t nrt;
	int64_t in_flight = 0;

	promtext_init(&pt);
	slots = atomic_load_explicit(&m->hdr->slots_used,
	    memory_order_acquire);
	nrt = atomic_load_explicit(&m->hdr->rt_count, memory_order_acquire);
	if (slots > FCGIM_SLOTS)
		slots = FCGIM_SLOTS;
	if (nrt > FCGIM_RTS)
		nrt = FCGIM_RTS;
	for (unsigned s = 0; s < slots; s++) {
		if (!fcgim_slot_owned(m, s))
			continue;
		procs++;
		in_flight += atomic_load_explicit(&fcgim_slot_at(m,
		    s)->in_flight, memory_order_relaxed);
	}
	promtext_family(&pt, "wrg_fcgi_processes", "gauge",
	    "wrg.fcgi processes running on this metrics state file.");
	promtext_u64(&pt, "wrg_fcgi_processes", NULL, procs);
	promtext_family(&pt, "wrg_fcgi_requests_in_flight", "gauge",
	    "Browser API requests being served, over every wrg.fcgi "
	    "process.");
	promtext_i64(&pt, "wrg_fcgi_requests_in_flight", NULL, in_flight);
	fcgim_render_requests(m, &pt, slots, nrt);
	fcgim_render_runtimes(m, &pt, slots, nrt);
	return promtext_take(&pt, len);
}

bool
fcgim_serve(struct fcgim *m, const struct registry *reg, const char *method,
    const char *uri, char **head, char **body, size_t *body_len)
{
	const char *p = reg->fcgi_metrics_path;
	size_t plen;

	if (m == NULL || p == NULL || uri == NULL)
		return false;
	plen = strcspn(uri, "?");
	if (plen != strlen(p) || memcmp(uri, p, plen) != 0)
		return false;
	if (method != NULL && (strcmp(method, "GET") == 0 ||
	    strcmp(method, "HEAD") == 0)) {
		*body = fcgim_render(m, body_len);
		*head = xasprintf("Status: 200 OK\r\nContent-Type: %s\r\n"
		    "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n",
		    PROMTEXT_CONTENT_TYPE, *body_len);
		if (strcmp(method, "HEAD") == 0) {
			free(*body);
			*body = NULL;
			*body_len = 0;
		}
		return true;
	}
	*body = xstrdup("method not allowed\n");
	*body_len = strlen(*body);
	*head = xasprintf("Status: 405 Method Not Allowed\r\nAllow: GET, HEAD"
	    "\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n\r\n", *body_len);
	return true;
}
