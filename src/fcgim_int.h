/*
 * fcgim_int — what fcgim.c (setup, the request path) and fcgim_render.c
 * (the metrics request) share: the layout of the metrics state file and
 * the process's handle on it. Not for other modules (they use fcgim.h).
 */
#ifndef WRG_FCGIM_INT_H
#define WRG_FCGIM_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fcgim.h"

#define FCGIM_MAGIC UINT64_C(0x317274656d677277)	/* "wrgmetr1" */
#define FCGIM_VERSION 1
#define FCGIM_NB 11			/* histogram bounds */
#define FCGIM_PROBES 64			/* series table probe limit */
#define FCGIM_ID_LEN 72			/* >= IDS_RUNTIME_ID_MAX + 1 */
#define FCGIM_NO_RT UINT16_MAX
#define FCGIM_PAGE 4096
_Static_assert(FCGIM_SERIES == 4096, "fcgim_request_end hashes to 12 bits");
#define FCGIM_ROUND(n) (((n) + FCGIM_PAGE - 1) / FCGIM_PAGE * FCGIM_PAGE)

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

/* Slot i of the mapped file. */
struct fcgim_slot *fcgim_slot_at(const struct fcgim *m, unsigned i);

/* Whether slot i is ours or another open file description holds its lock
 * byte (a live process owns it). */
bool fcgim_slot_owned(const struct fcgim *m, unsigned i);

#endif
