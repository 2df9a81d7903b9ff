/*
 * cli — the shared command-line start of the wrg daemons (see cli.h).
 * Owns nothing past its calls: the option table is built on the stack,
 * strings in struct cli point into argv or the environment.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "wlog.h"

static const struct option cli_shared[] = {
	{ "config", required_argument, NULL, CLI_OPT_CONFIG },
	{ "check-config", no_argument, NULL, CLI_OPT_CHECK },
	{ "log-level", required_argument, NULL, CLI_OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, CLI_OPT_HELP },
	{ "version", no_argument, NULL, CLI_OPT_VERSION },
};

#define CLI_SHARED_N (sizeof(cli_shared) / sizeof(cli_shared[0]))

/* The shared options, then the daemon's own, then the zeroed end:
 * getopt_long takes one table. */
static void
cli_longopts(const struct cli_spec *spec,
    struct option all[CLI_SHARED_N + CLI_OWN_MAX + 1])
{
	size_t n = 0;

	memset(all, 0, (CLI_SHARED_N + CLI_OWN_MAX + 1) * sizeof(*all));
	for (size_t i = 0; i < CLI_SHARED_N; i++)
		all[n++] = cli_shared[i];
	for (size_t i = 0; spec->own != NULL && spec->own[i].name != NULL;
	    i++) {
		if (i == CLI_OWN_MAX)
			abort();	/* a daemon's table, not input */
		all[n++] = spec->own[i];
	}
}

/* One option getopt_long returned. Returns CLI_GO_ON or an exit status. */
static int
cli_opt(const struct cli_spec *spec, struct cli *c, int opt,
    const char **cfg)
{
	switch (opt) {
	case CLI_OPT_CONFIG:
		*cfg = optarg;
		return CLI_GO_ON;
	case CLI_OPT_CHECK:
		c->check = true;
		return CLI_GO_ON;
	case CLI_OPT_LOG_LEVEL:
		c->level = wlog_level_parse(optarg);
		if (c->level < 0) {
			spec->bad_level(optarg);
			return 2;
		}
		return CLI_GO_ON;
	case CLI_OPT_HELP:
		spec->usage(stdout);
		return 0;
	case CLI_OPT_VERSION:
		printf("%s %s\n", spec->prog, PACKAGE_VERSION);
		return 0;
	case '?':
		break;
	default:
		if (spec->own_opt != NULL)
			return spec->own_opt(spec->arg, opt, optarg);
		break;
	}
	spec->usage(stderr);
	return 2;
}

int
cli_parse(const struct cli_spec *spec, int argc, char **argv,
    struct cli *c)
{
	struct option all[CLI_SHARED_N + CLI_OWN_MAX + 1];
	const char *cfg = NULL;
	int opt, status;

	memset(c, 0, sizeof(*c));
	c->level = WLOG_INFO;
	cli_longopts(spec, all);
	while ((opt = getopt_long(argc, argv, spec->shortopts, all,
	    NULL)) != -1) {
		status = cli_opt(spec, c, opt, &cfg);
		if (status != CLI_GO_ON)
			return status;
	}
	if (optind != argc) {
		spec->usage(stderr);
		return 2;
	}
	c->path = registry_config_path(cfg);
	wlog_init(spec->prog, (enum wlog_level)c->level);
	return CLI_GO_ON;
}

int
cli_load(const struct cli_spec *spec, const struct cli *c,
    struct registry **reg)
{
	char *err = NULL;

	*reg = registry_load_file(c->path, &err);
	if (*reg == NULL) {
		fprintf(stderr, "%s%s\n", spec->load_err_prefix, err);
		free(err);
		return 1;
	}
	wlog_set_format((*reg)->log_json ? WLOG_JSON : WLOG_TEXT);
	if (c->check) {
		registry_print(*reg, stdout);
		registry_free(*reg);
		*reg = NULL;
		return 0;
	}
	return CLI_GO_ON;
}
