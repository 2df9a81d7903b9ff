/*
 * proxy — the libwebsockets side of wrg-wsproxy: one context, a server
 * vhost for browsers, client connections to runtimes, signal-driven
 * shutdown and reload. main.c parses the command line and calls
 * proxy_run().
 */
#ifndef WRG_WSPROXY_PROXY_H
#define WRG_WSPROXY_PROXY_H

#include "registry.h"

/* Runs the proxy until SIGTERM/SIGINT. Takes ownership of reg;
 * config_path is re-read on SIGHUP. Returns the process exit status:
 * 0 after a clean shutdown, 1 if the listener could not be set up. */
int proxy_run(struct registry *reg, const char *config_path);

#endif
