/*
 * promtext — a writer for the Prometheus text exposition format (0.0.4),
 * shared by wrg.fcgi's and wrg-wsproxy's metrics. It only writes: # HELP
 * and # TYPE lines, samples with escaped label values, and histograms
 * (cumulative _bucket lines with le, _sum, _count). Label values are
 * registry ids and fixed names; the escaping is there so that no value
 * can ever break a line, not to make other text fit for scraping.
 *
 * Memory: a struct promtext owns its growing buffer (xalloc: aborts on
 * OOM); what it holds is built from bounded in-process tables, never from
 * the network.
 */
#ifndef WRG_PROMTEXT_H
#define WRG_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

struct promtext {
	char *buf;	/* NUL-terminated once anything was written */
	size_t len;
	size_t cap;
};

/* The content type of what promtext writes. */
#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Starts an empty buffer. */
void promtext_init(struct promtext *pt);

/* Frees the buffer and empties pt. */
void promtext_clear(struct promtext *pt);

/* Hands the buffer (NUL-terminated, possibly "") to the caller, who frees
 * it; *len gets its length. pt is empty afterwards. */
char *promtext_take(struct promtext *pt, size_t *len);

/* "# HELP name help" (help escaped: '\\' and newline) and "# TYPE name
 * type"; type is "counter", "gauge" or "histogram". */
void promtext_family(struct promtext *pt, const char *name,
    const char *type, const char *help);

/* One sample line. labels is NULL or a NULL-terminated array of name,
 * value pairs: {"route", "health", "status", "200", NULL}. A pair whose
 * value is NULL or "" is left out (Prometheus treats an empty label as
 * absent). Values are escaped ('\\', '"', newline). */
void promtext_u64(struct promtext *pt, const char *name,
    const char *const *labels, uint64_t v);
void promtext_i64(struct promtext *pt, const char *name,
    const char *const *labels, int64_t v);
void promtext_double(struct promtext *pt, const char *name,
    const char *const *labels, double v);

/* A histogram: name_bucket{...,le="b"} for each of the n ascending upper
 * bounds and le="+Inf", then name_sum and name_count. counts holds n + 1
 * per-bucket (not cumulative) counts, the last one above every bound; the
 * writer accumulates them. */
void promtext_histogram(struct promtext *pt, const char *name,
    const char *const *labels, const double *bounds, size_t n,
    const uint64_t *counts, double sum);

#endif
