/*
 * wrg-wsproxy — the WebSocket observation proxy. This file only parses
 * the command line, loads the registry config and hands over to proxy.c.
 *
 *   wrg-wsproxy [-c FILE] [--log-level L] [--check-config]
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "proxy.h"
#include "registry.h"
#include "wlog.h"
#include "wlog_lws.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: wrg-wsproxy [-c FILE] [--log-level "
	    "error|warn|info|debug] [--check-config]\n"
	    "       wrg-wsproxy --version | --help\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cli_path = NULL, *path;
	struct registry *reg;
	char *err = NULL;
	int level = WLOG_INFO, opt;
	bool check = false;

	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cli_path = optarg; break;
		case 'C': check = true; break;
		case 'l':
			level = wlog_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "wrg-wsproxy: unknown log "
				    "level '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("wrg-wsproxy %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	wlog_init("wrg-wsproxy", (enum wlog_level)level);
	path = registry_config_path(cli_path);
	reg = registry_load_file(path, &err);
	if (reg == NULL) {
		fprintf(stderr, "wrg-wsproxy: %s\n", err != NULL ? err : path);
		free(err);
		return 1;
	}
	wlog_set_format(reg->log_json ? WLOG_JSON : WLOG_TEXT);
	if (check) {
		registry_print(reg, stdout);
		registry_free(reg);
		return 0;
	}
	wlog_lws_route();
	return proxy_run(reg, path);
}
