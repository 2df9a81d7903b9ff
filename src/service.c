/*
 * service — wrg.fcgi's serving phase (see service.h): signals, shared
 * state, the FastCGI loop and its shutdown.
 *
 * Ownership: service_run owns the runtime state, the metrics handle and
 * the loop, and frees them on every path.
 */
#include "service.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fcgiloop.h"
#include "fcgim.h"
#include "rtstate.h"
#include "wlog.h"

/* Before any thread: every thread inherits the mask, and the loop takes
 * these signals through its signalfd. */
static void
service_block_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* In-flight requests may take the longest request timeout plus a
 * margin to finish after SIGTERM. */
static long
service_stop_limit_ms(const struct registry *reg)
{
	long limit = 2000;

	for (size_t i = 0; i < reg->runtime_count; i++)
		if (reg->runtimes[i].request_timeout_ms +
		    reg->runtimes[i].connect_timeout_ms + 2000 > limit)
			limit = reg->runtimes[i].request_timeout_ms
			    + reg->runtimes[i].connect_timeout_ms + 2000;
	return limit;
}

/* fcgi.threads, or one event loop per online CPU. */
static unsigned
service_threads(const struct registry *reg)
{
	long n;

	if (reg->fcgi_threads > 0)
		return reg->fcgi_threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

int
service_run(const struct registry *reg, int listen_fd)
{
	struct rtstate *rts = NULL;
	struct fcgiloop *loop = NULL;
	struct fcgim *metrics = NULL;
	struct fcgiloop_opts lo;
	enum fcgiloop_err le;
	int status = 1;

	service_block_signals();
	/* Asked for and unusable is a startup error, as a bad config is. */
	if (reg->fcgi_metrics_path != NULL) {
		metrics = fcgim_open(reg->fcgi_metrics_state, reg);
		if (metrics == NULL)
			goto out;
	}
	rts = rtstate_new(reg->runtime_count);
	memset(&lo, 0, sizeof(lo));
	lo.listen_fd = listen_fd;
	lo.threads = service_threads(reg);
	lo.reg = reg;
	lo.rts = rts;
	lo.metrics = metrics;
	lo.stop_limit_ms = service_stop_limit_ms(reg);
	loop = fcgiloop_new(&lo);
	if (loop == NULL)
		goto out;
	wlog(WLOG_INFO, NULL, NULL, "serving %zu runtime(s) on %u event loop thread(s)",
	    reg->runtime_count, fcgiloop_threads(loop));
	le = fcgiloop_run(loop);
	status = le == FCGILOOP_OK ? 0 : 1;
out:
	fcgiloop_free(loop);
	fcgim_free(metrics);
	rtstate_free(rts);
	return status;
}
