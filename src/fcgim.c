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
 *
 * This file: the file's setup and the request path; rendering the
 * counters is fcgim_render.c's. Both share fcgim_int.h.
 */
#include "fcgim.h"
#include "fcgim_int.h"

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
#include "wlog.h"
#include "xalloc.h"

static const long long fcgim_bounds_us[FCGIM_NB] = { 5000, 10000, 25000,
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000 };


struct fcgim_slot *
fcgim_slot_at(const struct fcgim *m, unsigned i)
{
	return (struct fcgim_slot *)(m->map + FCGIM_HDR_SIZE +
	    (size_t)i * FCGIM_SLOT_SIZE);
}

/* Whether fcgim_lock waits for a lock another process holds. */
enum fcgim_lock_mode {
	FCGIM_LOCK_TRY,		/* fail at once (F_OFD_SETLK) */
	FCGIM_LOCK_WAIT		/* block until granted (F_OFD_SETLKW) */
};

/* An OFD lock on byte `at`: F_WRLCK or F_UNLCK. */
static int
fcgim_lock(int fd, short type, off_t at, enum fcgim_lock_mode mode)
{
	bool wait = mode == FCGIM_LOCK_WAIT;
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
bool
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
	if (fd < 0 || fcgim_lock(fd, F_WRLCK, 0, FCGIM_LOCK_WAIT) != 0 ||
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

		if (fcgim_lock(m->fd, F_WRLCK, 1 + (off_t)i,
		    FCGIM_LOCK_TRY) != 0)
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
	fcgim_lock(m->fd, F_UNLCK, 0, FCGIM_LOCK_TRY);
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
