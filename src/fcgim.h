/*
 * fcgim — wrg.fcgi's Prometheus metrics, totalled over every wrg.fcgi
 * process of a deployment (lighttpd max-procs, several spawn-fcgi
 * instances, systemd restarts): requests by route, status and runtime;
 * upstream latency per runtime; upstream errors by type (the apierr
 * classes); requests in flight.
 *
 * All processes share one state file (registry fcgi.metrics_state),
 * mapped MAP_SHARED: a header (magic, version, layout size, the table of
 * runtime ids) and FCGIM_SLOTS process slots. A process owns the first
 * slot it can lock with an OFD byte-range lock (fcntl F_OFD_SETLK); the
 * kernel drops the lock when the process dies, and the next process to
 * start takes the slot over and keeps adding to its counters, so totals
 * never go backwards. Gauges (in flight) restart at 0 when a slot is
 * claimed, and only slots whose lock is held are summed for them. A file
 * of another layout (another version) is replaced by a new one, built
 * aside and renamed over it, under the header lock.
 *
 * The request path takes no lock, allocates nothing and makes no system
 * call: a few relaxed atomic adds on this process's slot. Only
 * fcgim_open (startup) and fcgim_render (the metrics request) lock or
 * call the kernel. Every hook accepts m == NULL (metrics off) and
 * returns at once.
 *
 * Bounds: at most FCGIM_RTS runtime ids over the life of the file (ids
 * beyond that are not counted per runtime) and FCGIM_SERIES (route,
 * status, runtime) series per slot (beyond: counted in
 * wrg_fcgi_metrics_dropped_total).
 */
#ifndef WRG_FCGIM_H
#define WRG_FCGIM_H

#include <stdbool.h>
#include <stddef.h>

#include "apierr.h"
#include "registry.h"

#define FCGIM_SLOTS 64
#define FCGIM_RTS 1024		/* REGISTRY_RUNTIMES_MAX */
#define FCGIM_SERIES 4096	/* a power of two */

struct fcgim;

/* Opens the state file at path (creating it, or replacing one of another
 * layout), adds the runtime ids of reg to its table and claims a free
 * slot. Returns the handle, owned by the caller (fcgim_free), or NULL
 * when the file cannot be used or every slot is taken (logged). */
struct fcgim *fcgim_open(const char *path, const struct registry *reg);

/* Releases the slot (its counters stay for the next owner) and frees m.
 * NULL is a no-op. */
void fcgim_free(struct fcgim *m);

/* A browser request starts and ends. route is an enum route_kind, rt_ref
 * the registry index of the request's runtime plus one (0: none), status
 * the HTTP status answered. */
void fcgim_request_begin(struct fcgim *m);
void fcgim_request_end(struct fcgim *m, unsigned route, size_t rt_ref,
    int status);

/* One upstream call to the runtime with registry index rt_index took usec
 * microseconds (the latency histogram). */
void fcgim_upstream_done(struct fcgim *m, size_t rt_index, long long usec);

/* One upstream call ended in error e (APIERR_OK is ignored). */
void fcgim_upstream_error(struct fcgim *m, size_t rt_index, enum apierr e);

/* The metrics of every slot, summed, in the Prometheus text format.
 * Returns a NUL-terminated string owned by the caller; *len its length. */
char *fcgim_render(struct fcgim *m, size_t *len);

/* The metrics request: when m is non-NULL and uri's path (before '?') is
 * exactly reg->fcgi_metrics_path, sets *head (a CGI header block) and
 * *body (NULL for HEAD), both owned by the caller, and returns true: 200
 * with the metrics for GET and HEAD, 405 for other methods. Otherwise
 * returns false and touches nothing. Who may ask is the web server's
 * business (conf/: an allow-list, like php-fpm's status page). */
bool fcgim_serve(struct fcgim *m, const struct registry *reg,
    const char *method, const char *uri, char **head, char **body,
    size_t *body_len);

#endif
