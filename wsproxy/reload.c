/*
 * reload — background config loads for SIGHUP (see reload.h).
 */
#include "reload.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "wlog.h"
#include "xalloc.h"

struct reload {
	pthread_mutex_t lock;
	char *config_path;
	void (*wake)(void *);
	void *wake_arg;
	/* Under lock: */
	bool running;		/* a thread owns the load in progress */
	bool again;		/* requested while running: load once more */
	bool abandoned;		/* the service thread let go: thread frees */
	struct reload_result *done;	/* finished, not taken yet */
};

struct reload *
reload_new(const char *config_path, void (*wake)(void *), void *wake_arg)
{
	struct reload *r = xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->lock, NULL);
	r->config_path = xstrdup(config_path);
	r->wake = wake;
	r->wake_arg = wake_arg;
	return r;
}

void
reload_result_free(struct reload_result *res)
{
	if (res == NULL)
		return;
	registry_free(res->reg);
	free(res->addrs);
	free(res->err);
	free(res);
}

static void
reload_free(struct reload *r)
{
	reload_result_free(r->done);
	pthread_mutex_destroy(&r->lock);
	free(r->config_path);
	free(r);
}

/* Reads the file and resolves its hosts: the part that may block. */
static struct reload_result *
reload_load(const char *path)
{
	struct reload_result *res = xcalloc(1, sizeof(*res));

	res->reg = registry_load_file(path, &res->err);
	if (res->reg != NULL)
		res->addrs = resolve_registry(res->reg);
	else if (res->err == NULL)
		res->err = xstrdup("unknown error");
	return res;
}

static void *
reload_main(void *arg)
{
	struct reload *r = arg;
	struct reload_result *res;
	bool gone;

	for (;;) {
		res = reload_load(r->config_path);
		pthread_mutex_lock(&r->lock);
		gone = r->abandoned;
		if (!gone && r->again) {
			/* A newer request: this result may be stale. */
			r->again = false;
			pthread_mutex_unlock(&r->lock);
			reload_result_free(res);
			continue;
		}
		if (!gone) {
			reload_result_free(r->done);
			r->done = res;
			res = NULL;
			/* Under the lock: reload_abandon cannot return (and
			 * the owner free what wake uses) meanwhile. */
			if (r->wake != NULL)
				r->wake(r->wake_arg);
		}
		r->running = false;
		pthread_mutex_unlock(&r->lock);
		break;
	}
	if (gone) {
		reload_result_free(res);
		reload_free(r);
	}
	return NULL;
}

/* Starts the thread, detached (never joined: shutdown must not wait for
 * a getaddrinfo that does not return) and with every signal blocked, so
 * the service thread's handlers see them. -1: not started. */
static int
reload_start(struct reload *r)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int e;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&t, &attr, reload_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (e) {
		wlog(WLOG_ERR, NULL, NULL, "reload: cannot start a thread: %s",
		    strerror(e));
		return -1;
	}
	return 0;
}

bool
reload_request(struct reload *r)
{
	bool busy;

	pthread_mutex_lock(&r->lock);
	busy = r->running;
	if (busy) {
		r->again = true;
	} else {
		r->running = true;
		if (reload_start(r) < 0) {
			r->running = false;
			reload_result_free(r->done);
			r->done = xcalloc(1, sizeof(*r->done));
			r->done->err = xstrdup("cannot start the reload "
			    "thread");
		}
	}
	pthread_mutex_unlock(&r->lock);
	return busy;
}

struct reload_result *
reload_take(struct reload *r)
{
	struct reload_result *res;

	pthread_mutex_lock(&r->lock);
	res = r->done;
	r->done = NULL;
	pthread_mutex_unlock(&r->lock);
	return res;
}

void
reload_abandon(struct reload *r)
{
	bool running;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	running = r->running;
	r->abandoned = true;
	pthread_mutex_unlock(&r->lock);
	if (!running)
		reload_free(r);
}
