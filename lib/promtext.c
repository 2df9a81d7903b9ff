/*
 * promtext — the Prometheus text format writer (see promtext.h). A line
 * format: no parser is needed anywhere, so none is written.
 */
#include "promtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void
promtext_init(struct promtext *pt)
{
	memset(pt, 0, sizeof(*pt));
}

void
promtext_clear(struct promtext *pt)
{
	free(pt->buf);
	promtext_init(pt);
}

char *
promtext_take(struct promtext *pt, size_t *len)
{
	char *s = pt->buf != NULL ? pt->buf : xstrdup("");

	*len = pt->len;
	promtext_init(pt);
	return s;
}

static void
promtext_reserve(struct promtext *pt, size_t more)
{
	size_t ncap = pt->cap ? pt->cap : 4096;

	if (pt->len + more + 1 <= pt->cap)
		return;
	while (ncap < pt->len + more + 1)
		ncap *= 2;
	pt->buf = xrealloc(pt->buf, ncap);
	pt->cap = ncap;
}

static void
promtext_put(struct promtext *pt, const char *s, size_t n)
{
	promtext_reserve(pt, n);
	memcpy(pt->buf + pt->len, s, n);
	pt->len += n;
	pt->buf[pt->len] = '\0';
}

static void promtext_printf(struct promtext *pt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
promtext_printf(struct promtext *pt, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only numbers go through here: they always fit. */
	if (n > 0)
		promtext_put(pt, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/* Writes s with '\\' and newline escaped, and '"' too when quoted. */
static void
promtext_escaped(struct promtext *pt, const char *s, int quoted)
{
	for (; *s; s++) {
		if (*s == '\\')
			promtext_put(pt, "\\\\", 2);
		else if (*s == '\n')
			promtext_put(pt, "\\n", 2);
		else if (*s == '"' && quoted)
			promtext_put(pt, "\\\"", 2);
		else
			promtext_put(pt, s, 1);
	}
}

void
promtext_family(struct promtext *pt, const char *name, const char *type,
    const char *help)
{
	promtext_put(pt, "# HELP ", 7);
	promtext_put(pt, name, strlen(name));
	promtext_put(pt, " ", 1);
	promtext_escaped(pt, help, 0);
	promtext_put(pt, "\n# TYPE ", 8);
	promtext_put(pt, name, strlen(name));
	promtext_put(pt, " ", 1);
	promtext_put(pt, type, strlen(type));
	promtext_put(pt, "\n", 1);
}

/* name{labels[,le="le"]} and a space. */
static void
promtext_head(struct promtext *pt, const char *name, const char *suffix,
    const char *const *labels, const char *le)
{
	int first = 1;

	promtext_put(pt, name, strlen(name));
	promtext_put(pt, suffix, strlen(suffix));
	for (size_t i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		if (labels[i + 1] == NULL || labels[i + 1][0] == '\0')
			continue;
		promtext_put(pt, first ? "{" : ",", 1);
		first = 0;
		promtext_put(pt, labels[i], strlen(labels[i]));
		promtext_put(pt, "=\"", 2);
		promtext_escaped(pt, labels[i + 1], 1);
		promtext_put(pt, "\"", 1);
	}
	if (le != NULL) {
		promtext_put(pt, first ? "{le=\"" : ",le=\"", 5);
		promtext_put(pt, le, strlen(le));
		promtext_put(pt, "\"", 1);
		first = 0;
	}
	if (!first)
		promtext_put(pt, "}", 1);
	promtext_put(pt, " ", 1);
}

void
promtext_u64(struct promtext *pt, const char *name,
    const char *const *labels, uint64_t v)
{
	promtext_head(pt, name, "", labels, NULL);
	promtext_printf(pt, "%llu\n", (unsigned long long)v);
}

void
promtext_i64(struct promtext *pt, const char *name,
    const char *const *labels, int64_t v)
{
	promtext_head(pt, name, "", labels, NULL);
	promtext_printf(pt, "%lld\n", (long long)v);
}

void
promtext_double(struct promtext *pt, const char *name,
    const char *const *labels, double v)
{
	promtext_head(pt, name, "", labels, NULL);
	promtext_printf(pt, "%.9g\n", v);
}

void
promtext_histogram(struct promtext *pt, const char *name,
    const char *const *labels, const double *bounds, size_t n,
    const uint64_t *counts, double sum)
{
	unsigned long long acc = 0;
	char le[32];

	for (size_t i = 0; i <= n; i++) {
		acc += counts[i];
		if (i < n)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		promtext_head(pt, name, "_bucket", labels, le);
		promtext_printf(pt, "%llu\n", acc);
	}
	promtext_head(pt, name, "_sum", labels, NULL);
	promtext_printf(pt, "%.9g\n", sum);
	promtext_head(pt, name, "_count", labels, NULL);
	promtext_printf(pt, "%llu\n", acc);
}
