/*
 * fcgim — the shared metrics state of wrg.fcgi processes (see fcgim.h).
 *
 * File layout (FCGIM_VERSION; any change to these structs changes
 * FCGIM_FILE_SIZE too, and a file of another size or version is
 * replaced):
 *   header page(s): struct fcgim_hdr — identity, the runtime id table
 *   FCGIM_SLOTS x struct fcgim_slot, each page-aligned
 * Lock bytes (OFD locks, independent of the data): byte 0 guards setup
 * (checking, initializing, replacing the file, adding runtime ids);
 * byte 1 + i is held by the owner of slot i for its whole life.
 *
 * Counters are only ever added to with relaxed atomics by the slot's
 * owner process (its threads); readers sum them without locking, so a
 * scrape may see one request counted and its latency not yet: harmless.
 */
#include "fcgim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ids.h"
#include "promtext.h"
#include "route.h"
#include "wlog.h"
#include "xalloc.h"

#define FCGIM_MAGIC UINT64_C(0x317274656d677277)	/* "wrgmetr1" */
#define FCGIM_VERSION 1
#define FCGIM_NB 11			/* histogram bounds */
#define FCGIM_PROBES 64			/* series table probe limit */
#define FCGIM_ID_LEN 72			/* >= IDS_RUNTIME_ID_MAX + 1 */
#define FCGIM_NO_RT UINT16_MAX
#define FCGIM_PAGE 4096
_Static_assert(FCGIM_SERIES == 4096, "fcgim_request_end hashes to 12 bits");
#define FCGIM_ROUND(n) (((n) + FCGIM_PAGE - 1) / FCGIM_PAGE * FCGIM_PAGE)

static const double fcgim_bounds[FCGIM_NB] = { 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const long long fcgim_bounds_us[FCGIM_NB] = { 5000, 10000, 25000,
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000 };

struct fcgim_id {
	uint64_t magic;
	uint32_t version;
	uint32_t slots;
	uint64_t size;		/* of the whole file */
};

struct fcgim_hdr {
	struct fcgim_id id;
	_Atomic uint32_t rt_count;	/* entries used in rt_id */
	_Atomic uint32_t slots_used;	/* slots ever claimed (high mark) */
	char rt_id[FCGIM_RTS][FCGIM_ID_LEN];
};

/* A (route, status, runtime) request counter; key 0 is a free entry. */
struct fcgim_series {
	_Atomic uint64_t key;
	_Atomic uint64_t n;
};

struct fcgim_rt {
	_Atomic uint64_t bucket[FCGIM_NB + 1];	/* per bucket, +Inf last */
	_Atomic uint64_t sum_us;
	_Atomic uint64_t err[APIERR__COUNT];
};

struct fcgim_slot {
	_Atomic int64_t in_flight;
	_Atomic uint64_t dropped;	/* requests past a full series table */
	struct fcgim_series series[FCGIM_SERIES];
	struct fcgim_rt rt[FCGIM_RTS];
};

#define FCGIM_HDR_SIZE FCGIM_ROUND(sizeof(struct fcgim_hdr))
#define FCGIM_SLOT_SIZE FCGIM_ROUND(sizeof(struct fcgim_slot))
#define FCGIM_FILE_SIZE (FCGIM_HDR_SIZE + (size_t)FCGIM_SLOTS * FCGIM_SLOT_SIZE)

struct fcgim {
	int fd;
	unsigned char *map;
	struct fcgim_hdr *hdr;
	struct fcgim_slot *slot;	/* ours */
	unsigned slot_index;
	size_t nrt;
	uint16_t *rtmap;	/* registry index -> rt_id index */
};

static struct fcgim_slot *
fcgim_slot_at(const struct fcgim *m, unsigned i)
{
	return (struct fcgim_slot *)(m->map + FCGIM_HDR_SIZE +
	    (size_t)i * FCGIM_SLOT_SIZE);
}

/* An OFD lock on byte `at`: F_WRLCK or F_UNLCK, waiting or not. */
static int
fcgim_lock(int fd, short type, off_t at, bool wait)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) != 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* Whether another open file description holds slot i's lock byte. */
static bool
fcgim_slot_owned(const struct fcgim *m, unsigned i)
{
	struct flock fl;

	if (i == m->slot_index)
		return true;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 1 + (off_t)i;
	fl.l_len = 1;
	return fcntl(m->fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

static const struct fcgim_id *
fcgim_expected(void)
{
	static const struct fcgim_id id = { FCGIM_MAGIC, FCGIM_VERSION,
		FCGIM_SLOTS, FCGIM_FILE_SIZE };

	return &id;
}

/* Makes fd an empty file of this layout: all zero but the identity. */
static int
fcgim_init_file(int fd)
{
	const struct fcgim_id *id = fcgim_expected();

	if (ftruncate(fd, 0) != 0 ||
	    ftruncate(fd, (off_t)FCGIM_FILE_SIZE) != 0 ||
	    pwrite(fd, id, sizeof(*id), 0) != (ssize_t)sizeof(*id))
		return -1;
	return 0;
}

/* Builds a new file beside path and renames it over path (readers of the
 * old one keep their mapping; nothing ever sees half a file). */
static int
fcgim_replace(const char *path)
{
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int fd, rc = -1;

	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 || fcgim_init_file(fd) != 0 || rename(tmp, path) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "metrics state %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	return rc;
}

/* One try at opening path with the setup lock held and a valid layout:
 * 0 done (m->fd, m->map set; setup lock held), 1 try again (the file was
 * replaced meanwhile), -1 error (logged). */
static int
fcgim_attach(struct fcgim *m, const char *path)
{
	struct fcgim_id id;
	struct stat st, pst;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fcgim_lock(fd, F_WRLCK, 0, true) != 0 ||
	    fstat(fd, &st) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "metrics state %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	/* Replaced by another process while we waited for the lock. */
	if (stat(path, &pst) != 0 || pst.st_ino != st.st_ino ||
	    pst.st_dev != st.st_dev) {
		close(fd);
		return 1;
	}
	if (st.st_size == 0) {
		if (fcgim_init_file(fd) != 0) {
			wlog(WLOG_ERR, NULL, NULL, "metrics state %s: %s",
			    path, strerror(errno));
			goto fail;
		}
	} else if ((size_t)st.st_size != FCGIM_FILE_SIZE ||
	    pread(fd, &id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
	    memcmp(&id, fcgim_expected(), sizeof(id)) != 0) {
		wlog(WLOG_WARN, NULL, NULL, "metrics state %s has another "
		    "layout (another wrg version?): starting a new one", path);
		if (fcgim_replace(path) != 0)
			goto fail;
		close(fd);
		return 1;
	}
	m->map = mmap(NULL, FCGIM_FILE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (m->map == MAP_FAILED) {
		m->map = NULL;
		wlog(WLOG_ERR, NULL, NULL, "metrics state %s: mmap: %s", path,
		    strerror(errno));
		goto fail;
	}
	m->fd = fd;
	m->hdr = (struct fcgim_hdr *)m->map;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Maps each runtime of reg to its entry in the id table, adding ids not
 * seen before (setup lock held). */
static void
fcgim_map_runtimes(struct fcgim *m, const struct registry *reg)
{
	struct fcgim_hdr *h = m->hdr;
	uint32_t n = atomic_load_explicit(&h->rt_count, memory_order_acquire);

	m->nrt = reg->runtime_count;
	m->rtmap = xcalloc(m->nrt ? m->nrt : 1, sizeof(*m->rtmap));
	for (size_t i = 0; i < m->nrt; i++) {
		const char *id = reg->runtimes[i].id;
		uint32_t j;

		for (j = 0; j < n && j < FCGIM_RTS; j++)
			if (strncmp(h->rt_id[j], id, FCGIM_ID_LEN) == 0)
				break;
		if (j == n && n < FCGIM_RTS) {
			snprintf(h->rt_id[n], FCGIM_ID_LEN, "%s", id);
			atomic_store_explicit(&h->rt_count, ++n,
			    memory_order_release);
		}
		if (j >= FCGIM_RTS) {
			wlog(WLOG_WARN, NULL, id, "metrics: the state file "
			    "already holds %d runtime ids: this one is not "
			    "counted (delete the file to start over)",
			    FCGIM_RTS);
			m->rtmap[i] = FCGIM_NO_RT;
		} else {
			m->rtmap[i] = (uint16_t)j;
		}
	}
}

static int
fcgim_claim(struct fcgim *m)
{
	struct fcgim_hdr *h = m->hdr;

	for (unsigned i = 0; i < FCGIM_SLOTS; i++) {
		uint32_t used;

		if (fcgim_lock(m->fd, F_WRLCK, 1 + (off_t)i, false) != 0)
			continue;
		m->slot_index = i;
		m->slot = fcgim_slot_at(m, i);
		/* A dead owner's gauge means nothing now; its counters
		 * go on from where they are. */
		atomic_store_explicit(&m->slot->in_flight, 0,
		    memory_order_relaxed);
		used = atomic_load_explicit(&h->slots_used,
		    memory_order_relaxed);
		while (used < i + 1 && !atomic_compare_exchange_weak(
		    &h->slots_used, &used, i + 1))
			;
		return 0;
	}
	return -1;
}

struct fcgim *
fcgim_open(const char *path, const struct registry *reg)
{
	struct fcgim *m = xcalloc(1, sizeof(*m));
	int r = 1;

	m->fd = -1;
	m->slot_index = FCGIM_SLOTS;
	for (int tries = 0; tries < 5 && r == 1; tries++)
		r = fcgim_attach(m, path);
	if (r != 0) {
		if (r == 1)
			wlog(WLOG_ERR, NULL, NULL, "metrics state %s keeps "
			    "being replaced", path);
		goto fail;
	}
	fcgim_map_runtimes(m, reg);
	fcgim_lock(m->fd, F_UNLCK, 0, false);
	if (fcgim_claim(m) != 0) {
		wlog(WLOG_ERR, NULL, NULL, "metrics state %s: all %d process "
		    "slots are taken", path, FCGIM_SLOTS);
		goto fail;
	}
	return m;
fail:
	fcgim_free(m);
	return NULL;
}

void
fcgim_free(struct fcgim *m)
{
	if (m == NULL)
		return;
	if (m->map != NULL)
		munmap(m->map, FCGIM_FILE_SIZE);
	if (m->fd >= 0)
		close(m->fd);	/* drops our locks */
	free(m->rtmap);
	free(m);
}

/* ---- the request path: relaxed atomics on our slot only ---------------- */

void
fcgim_request_begin(struct fcgim *m)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->slot->in_flight, 1,
		    memory_order_relaxed);
}

static uint64_t
fcgim_key(unsigned route, unsigned status, unsigned rt_plus1)
{
	return UINT64_C(1) << 63 | (uint64_t)(route & 0xff) << 40 |
	    (uint64_t)(status & 0xffff) << 24 | (rt_plus1 & 0xffffff);
}

void
fcgim_request_end(struct fcgim *m, unsigned route, size_t rt_ref,
    int status)
{
	struct fcgim_series *t;
	unsigned g = 0;
	uint64_t key;
	size_t h;

	if (m == NULL)
		return;
	atomic_fetch_sub_explicit(&m->slot->in_flight, 1,
	    memory_order_relaxed);
	if (rt_ref > 0 && rt_ref <= m->nrt &&
	    m->rtmap[rt_ref - 1] != FCGIM_NO_RT)
		g = m->rtmap[rt_ref - 1] + 1u;
	key = fcgim_key(route, status < 0 ? 0 : (unsigned)status, g);
	t = m->slot->series;
	h = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 52);
	for (int i = 0; i < FCGIM_PROBES; i++, h = (h + 1) % FCGIM_SERIES) {
		uint64_t k = atomic_load_explicit(&t[h].key,
		    memory_order_relaxed);

		if (k == 0) {
			/* Another thread may take it first, with this or
			 * another key: k tells which. */
			if (!atomic_compare_exchange_strong(&t[h].key, &k,
			    key) && k != key)
				continue;
			k = key;
		}
		if (k == key) {
			atomic_fetch_add_explicit(&t[h].n, 1,
			    memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&m->slot->dropped, 1, memory_order_relaxed);
}

static struct fcgim_rt *
fcgim_rt_of(struct fcgim *m, size_t rt_index)
{
	if (m == NULL || rt_index >= m->nrt ||
	    m->rtmap[rt_index] == FCGIM_NO_RT)
		return NULL;
	return &m->slot->rt[m->rtmap[rt_index]];
}

void
fcgim_upstream_done(struct fcgim *m, size_t rt_index, long long usec)
{
	struct fcgim_rt *r = fcgim_rt_of(m, rt_index);
	size_t b = 0;

	if (r == NULL)
		return;
	if (usec < 0)
		usec = 0;
	while (b < FCGIM_NB && usec > fcgim_bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (uint64_t)usec,
	    memory_order_relaxed);
}

void
fcgim_upstream_error(struct fcgim *m, size_t rt_index, enum apierr e)
{
	struct fcgim_rt *r = fcgim_rt_of(m, rt_index);

	if (r != NULL && e > APIERR_OK && e < APIERR__COUNT)
		atomic_fetch_add_explicit(&r->err[e], 1, memory_order_relaxed);
}

/* ---- rendering (the metrics request only) ------------------------------ */

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
