/*
 * fuzz_check — the one assertion the fuzz targets use for their
 * invariants. Unlike assert() it never compiles away (NDEBUG), and it
 * names the broken invariant on stderr before aborting, so a crash found
 * by libFuzzer or replayed by driver.c says what went wrong, not only
 * where.
 */
#ifndef WRG_FUZZ_CHECK_H
#define WRG_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

#endif
