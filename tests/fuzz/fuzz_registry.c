/*
 * Fuzz target: the registry config loader. It must either load or give
 * one "name: ..." error, never crash or leak.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "wlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry *reg;
	char *err = NULL;

	wlog_init("fuzz_registry", WLOG_ERR);
	reg = registry_load_buffer("fuzz", (const char *)data, size, &err);
	assert((reg == NULL) != (err == NULL));
	if (err)
		assert(strncmp(err, "fuzz: ", 6) == 0);
	free(err);
	registry_free(reg);
	return 0;
}
