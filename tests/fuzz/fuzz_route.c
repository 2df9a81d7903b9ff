/*
 * Fuzz target: the browser path router. Invariants checked beyond "no
 * crash": an accepted id always satisfies the id rules, so nothing the
 * router lets through can carry '/' or a control byte upstream.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route r;

	if (route_parse("/api", (const char *)data, size, &r) != ROUTE_OK)
		return 0;
	assert(r.kind != ROUTE_NONE);
	if (r.runtime_id[0])
		assert(ids_runtime_id_valid(r.runtime_id));
	if (r.worker_id_len) {
		assert(ids_worker_id_valid(r.worker_id, r.worker_id_len));
		assert(memchr(r.worker_id, '/', r.worker_id_len) == NULL);
	}
	(void)route_allow(r.kind);
	return 0;
}
