/*
 * probe — `wrg.fcgi --probe`: calls every runtime of the registry once,
 * as wrg.fcgi would (its token, TLS settings, timeouts, size cap), and
 * reports per runtime whether it is up, how long it took, what it says
 * of itself (status, backend, limits) and how many days its TLS
 * certificate has left. For operators and monitoring; never reachable
 * from a browser.
 */
#ifndef WRG_PROBE_H
#define WRG_PROBE_H

#include <stdbool.h>
#include <stdio.h>

#include "registry.h"

/* Probes every runtime of reg at once (each bounded by its timeouts) and
 * prints a table, or with json one JSON document, to out. Returns 0 if
 * every runtime is up, 1 if any is down. Needs curl_global_init. */
int probe_run(const struct registry *reg, FILE *out, bool json);

#endif
