/*
 * wrg-wsproxy — the WebSocket observation proxy. This file only parses
 * the command line, loads the registry config (both with lib/cli.h) and
 * hands over to proxy.c.
 *
 *   wrg-wsproxy [-c FILE] [--log-level L] [--check-config]
 */
#include <stdio.h>

#include "cli.h"
#include "proxy.h"
#include "registry.h"
#include "wlog_lws.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: wrg-wsproxy [-c FILE] [--log-level "
	    "error|warn|info|debug] [--check-config]\n"
	    "       wrg-wsproxy --version | --help\n");
}

/* Its wording of an unknown --log-level (cli_spec.bad_level), kept as
 * released. */
static void
bad_level(const char *word)
{
	fprintf(stderr, "wrg-wsproxy: unknown log level '%s'\n", word);
}

static const struct cli_spec wsproxy_cli = {
	.prog = "wrg-wsproxy", .shortopts = "c:h", .usage = usage,
	.bad_level = bad_level, .load_err_prefix = "wrg-wsproxy: ",
};

int
main(int argc, char **argv)
{
	struct cli c;
	struct registry *reg;
	int status;

	status = cli_parse(&wsproxy_cli, argc, argv, &c);
	if (status != CLI_GO_ON)
		return status;
	status = cli_load(&wsproxy_cli, &c, &reg);
	if (status != CLI_GO_ON)
		return status;
	wlog_lws_route();
	return proxy_run(reg, c.path);
}
