/*
 * Unit test: wrg.conf(5) documents every key of the registry key table
 * (lib/registry_keys.c), no key the table lacks, and the table's defaults.
 *
 * It reads man/wrg.conf.5.in under $top_srcdir (set by make check), else
 * under the source tree it was built from (make check-valgrind): in the
 * TOP-LEVEL KEYS section each .TP tag names a key (".BR token ", "
 * token_file ..." names several), and .RS/.RE nest a section's keys under
 * the key that introduced it, giving paths like "runtimes.tls.verify".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry_keys.h"

#define MAN_KEYS_MAX 128
#define MAN_DEPTH_MAX 4
#define MAN_ARGS_MAX 16

struct man_key {
	char path[128];
	char tag[256];	/* the tag's text after the key names */
};

struct man {
	struct man_key v[MAN_KEYS_MAX];
	size_t n;
};

/* Splits a roff request's arguments ("quoted" or bare) in place. */
static size_t
man_args(char *s, char **argv)
{
	size_t n = 0;

	while (*s && n < MAN_ARGS_MAX) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		if (*s == '"') {
			argv[n++] = ++s;
			while (*s && *s != '"')
				s++;
		} else {
			argv[n++] = s;
			while (*s && *s != ' ')
				s++;
		}
		if (*s)
			*s++ = '\0';
	}
	return n;
}

/* One .TP tag at nesting depth under parents: its keys into m, its first
 * key name into first (a section's keys nest under it). */
static void
man_tag(struct man *m, char *line, char parents[][64], size_t depth,
    char *first, size_t firstlen)
{
	char *argv[MAN_ARGS_MAX], prefix[128] = "", rest[256] = "";
	size_t argc, i, nkeys = 1;

	if (strncmp(line, ".BR ", 4) != 0 && strncmp(line, ".B ", 3) != 0)
		fail_msg("a key tag not in .B/.BR: %s", line);
	argc = man_args(strchr(line, ' '), argv);
	assert_true(argc > 0);
	while (2 * nkeys < argc && strcmp(argv[2 * nkeys - 1], ", ") == 0)
		nkeys++;
	for (i = 2 * nkeys - 1; i < argc; i++) {
		strncat(rest, argv[i], sizeof(rest) - strlen(rest) - 1);
		strncat(rest, " ", sizeof(rest) - strlen(rest) - 1);
	}
	for (i = 0; i < depth; i++) {
		strncat(prefix, parents[i], sizeof(prefix) - strlen(prefix) - 1);
		strncat(prefix, ".", sizeof(prefix) - strlen(prefix) - 1);
	}
	for (i = 0; i < nkeys; i++) {
		struct man_key *k = &m->v[m->n++];

		assert_true(m->n < MAN_KEYS_MAX);
		snprintf(k->path, sizeof(k->path), "%s%s", prefix,
		    argv[2 * i]);
		snprintf(k->tag, sizeof(k->tag), "%s", rest);
	}
	snprintf(first, firstlen, "%s", argv[0]);
}

static void
man_load(struct man *m)
{
	const char *top = getenv("top_srcdir");
	char file[4096], line[1024], parents[MAN_DEPTH_MAX][64], last[64] = "";
	bool in_keys = false, tag_next = false;
	size_t depth = 0;
	FILE *f;

	if (top == NULL || *top == '\0')
		top = WRG_TOP_SRCDIR;
	snprintf(file, sizeof(file), "%s/man/wrg.conf.5.in", top);
	f = fopen(file, "r");
	if (f == NULL)
		fail_msg("cannot open %s", file);
	m->n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".SH ", 4) == 0) {
			in_keys = strcmp(line, ".SH TOP-LEVEL KEYS") == 0;
			continue;
		}
		if (!in_keys)
			continue;
		if (tag_next) {
			man_tag(m, line, parents, depth, last, sizeof(last));
			tag_next = false;
		} else if (strcmp(line, ".TP") == 0)
			tag_next = true;
		else if (strcmp(line, ".RS") == 0) {
			assert_true(depth < MAN_DEPTH_MAX);
			snprintf(parents[depth++], sizeof(parents[0]), "%s",
			    last);
		} else if (strcmp(line, ".RE") == 0) {
			assert_true(depth > 0);
			depth--;
		}
	}
	fclose(f);
	assert_int_equal(depth, 0);
}

static void
table_path(const struct registry_keydef *k, char *buf, size_t len)
{
	const char *sect = registry_keys_section_path(k->section);

	snprintf(buf, len, "%s%s%s", sect, *sect ? "." : "", k->key);
}

static const struct man_key *
man_find(const struct man *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].path, path) == 0)
			return &m->v[i];
	return NULL;
}

static void
test_every_key_documented(void **state)
{
	static struct man m;
	char path[128];
	int bad = 0;

	(void)state;
	man_load(&m);
	for (size_t i = 0; i < registry_key_count; i++) {
		table_path(&registry_keys[i], path, sizeof(path));
		if (man_find(&m, path) == NULL) {
			print_error("wrg.conf(5) lacks key %s\n", path);
			bad = 1;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_no_key_undocumented_in_table(void **state)
{
	static struct man m;
	char path[128];
	int bad = 0;

	(void)state;
	man_load(&m);
	assert_true(m.n > 0);
	for (size_t i = 0; i < m.n; i++) {
		size_t j;

		for (j = 0; j < registry_key_count; j++) {
			table_path(&registry_keys[j], path, sizeof(path));
			if (strcmp(path, m.v[i].path) == 0)
				break;
		}
		if (j == registry_key_count) {
			print_error("wrg.conf(5) documents %s, which the key "
			    "table lacks\n", m.v[i].path);
			bad = 1;
		}
	}
	assert_int_equal(bad, 0);
}

/* The default the tag names, as the table has it: "default 30)" for
 * numbers, "default true)", "default \(dq/api\(dq" for strings. */
static void
test_defaults_documented(void **state)
{
	static struct man m;
	char path[128], want[192];
	int bad = 0;

	(void)state;
	man_load(&m);
	for (size_t i = 0; i < registry_key_count; i++) {
		const struct registry_keydef *k = &registry_keys[i];
		const struct man_key *mk;
		size_t o = 0;

		table_path(k, path, sizeof(path));
		if ((mk = man_find(&m, path)) == NULL)
			continue;	/* reported above */
		if (k->type == REGISTRY_T_UINT || k->type == REGISTRY_T_SIZE ||
		    k->type == REGISTRY_T_LONG)
			snprintf(want, sizeof(want), "default %lld)",
			    (long long)k->def);
		else if (k->type == REGISTRY_T_BOOL)
			snprintf(want, sizeof(want), "default %s)",
			    k->def ? "true" : "false");
		else if (k->def_str != NULL) {
			/* roff escapes '-' as "\-". */
			o = (size_t)snprintf(want, sizeof(want),
			    "default  \\(dq");
			for (const char *c = k->def_str; *c && o + 8 <
			    sizeof(want); c++) {
				if (*c == '-')
					want[o++] = '\\';
				want[o++] = *c;
			}
			snprintf(want + o, sizeof(want) - o, "\\(dq");
		} else
			continue;
		if (strstr(mk->tag, want) == NULL) {
			print_error("wrg.conf(5) %s: tag \"%s\" lacks \"%s\"\n",
			    path, mk->tag, want);
			bad = 1;
		}
	}
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_documented),
		cmocka_unit_test(test_no_key_undocumented_in_table),
		cmocka_unit_test(test_defaults_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
