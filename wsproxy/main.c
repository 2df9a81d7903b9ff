/*
 * wrg-wsproxy — the WebSocket observation proxy. This file only parses
 * the command line, loads the registry config and hands over to proxy.c.
 *
 *   wrg-wsproxy [-c FILE] [--log-level L] [--check-config]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "registry.h"
#include "wlog.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: wrg-wsproxy [-c FILE] [--log-level "
	    "error|warn|info|debug] [--check-config]\n");
}

int
main(int argc, char **argv)
{
	const char *cli_path = NULL, *path;
	struct registry *reg;
	char *err = NULL;
	int level = WLOG_INFO, check = 0, i;

	for (i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			cli_path = argv[++i];
		} else if (strcmp(argv[i], "--log-level") == 0 &&
		    i + 1 < argc) {
			level = wlog_level_parse(argv[++i]);
			if (level < 0) {
				fprintf(stderr, "wrg-wsproxy: unknown log "
				    "level '%s'\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--check-config") == 0) {
			check = 1;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	wlog_init("wrg-wsproxy", (enum wlog_level)level);
	path = registry_config_path(cli_path);
	reg = registry_load_file(path, &err);
	if (!reg) {
		fprintf(stderr, "wrg-wsproxy: %s\n", err ? err : path);
		free(err);
		return 1;
	}
	wlog_set_format(reg->log_json ? WLOG_JSON : WLOG_TEXT);
	if (check) {
		registry_print(reg, stdout);
		registry_free(reg);
		return 0;
	}
	wlog_route_lws();
	return proxy_run(reg, path);
}
