/*
 * service — wrg.fcgi once it serves: the signal mask, the state its
 * threads share (runtime state, metrics), the FastCGI loop with its
 * thread pool (fcgiloop.h), and the shutdown. main.c reads the command
 * line and the config and opens the listening socket; this takes it
 * from there.
 */
#ifndef WRG_SERVICE_H
#define WRG_SERVICE_H

#include "registry.h"

/* Serves FastCGI on listen_fd (borrowed: the caller closes it) until
 * SIGTERM or SIGINT, then lets requests in flight finish, bounded by the
 * longest runtime timeouts plus a margin. Must be called before any
 * other thread is started: it blocks SIGTERM, SIGINT and SIGHUP for
 * every thread (the loop takes them through a signalfd) and ignores
 * SIGPIPE. Returns the exit status: 0 after a clean stop, 1 when setup
 * or the loop failed (logged). Requests still waiting for a runtime at
 * the bound are cut (logged). */
int service_run(const struct registry *reg, int listen_fd);

#endif
