/*
 * cli — what the command lines of wrg.fcgi and wrg-wsproxy share: the
 * options -c/--config FILE, --check-config, --log-level L, -h/--help and
 * --version, and the start both make before serving: logging at the level
 * asked, the registry config loaded (or its "FILE: key: reason" and exit
 * 1), the log format it names, and --check-config printing it and
 * leaving. A daemon describes itself in a struct cli_spec (its name, its
 * own options, its usage text and wording) and its main reads as
 * cli_parse, cli_load, serve.
 *
 * Exit statuses: 0 after --help, --version and a good --check-config; 1
 * for a config that does not load; 2 for a usage error.
 */
#ifndef WRG_CLI_H
#define WRG_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "registry.h"

/* The getopt_long values of the shared options: a daemon's own options
 * use other values. */
#define CLI_OPT_CONFIG 'c'
#define CLI_OPT_HELP 'h'
#define CLI_OPT_CHECK 'C'
#define CLI_OPT_LOG_LEVEL 'l'
#define CLI_OPT_VERSION 'V'

/* The most long options a daemon may add to the shared ones. */
#define CLI_OWN_MAX 8

/* cli_parse and cli_load: go on (not an exit status). */
#define CLI_GO_ON (-1)

/* What a daemon tells the shared code about itself. Static data. */
struct cli_spec {
	const char *prog;	/* "wrg.fcgi": the log's name, --version */
	const char *shortopts;	/* its getopt string: "c:h" and its own */
	const struct option *own;	/* its own long options, ended by a
					 * zeroed entry; NULL: none */
	/* One of its own options (val, getopt's optarg). Returns CLI_GO_ON
	 * or the exit status to leave with (it printed why). NULL: none. */
	int (*own_opt)(void *arg, int opt, const char *val);
	void *arg;
	void (*usage)(FILE *f);
	/* Prints its message for an unknown --log-level word. */
	void (*bad_level)(const char *word);
	const char *load_err_prefix;	/* before a config error, or "" */
};

/* What the shared options asked for. */
struct cli {
	const char *path;	/* the config file: -c, $WRG_CONFIG or the
				 * default (registry_config_path; not owned) */
	bool check;		/* --check-config */
	int level;		/* --log-level, an enum wlog_level */
};

/* Parses argv (getopt_long: the shared options and spec->own) into *c,
 * and starts the log at the level asked. Returns CLI_GO_ON, or the exit
 * status to leave with: 0 after --help or --version, 2 on a usage error
 * (an unknown option, a stray argument, a bad --log-level), or what
 * spec->own_opt returned. */
int cli_parse(const struct cli_spec *spec, int argc, char **argv,
    struct cli *c);

/* Loads the config c names and sets the log format it asks for. Returns
 * CLI_GO_ON with *reg set (the caller owns it: registry_free), or the
 * exit status to leave with and *reg NULL: 1 when the config does not
 * load (its error printed to stderr), 0 after --check-config printed it
 * to stdout. */
int cli_load(const struct cli_spec *spec, const struct cli *c,
    struct registry **reg);

#endif
