/*
 * alive — a browser that reads counts as answering lws' pings (see
 * alive.h, docs/wsproxy.md "Pings").
 *
 * Ownership: nothing of its own; a session is on p->progress through its
 * progress_node while it has bytes not consumed, and session_free and
 * session_abandon take it off.
 */
#include "alive.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "proxy.h"
#include "session_int.h"

int
alive_unsent(struct lws *wsi)
{
	int n = 0;

	if (ioctl(lws_get_socket_fd(wsi), SIOCOUTQ, &n) != 0 || n < 0)
		return 0;
	return n;
}

/* How often the browsers with bytes they have not consumed are looked at. */
#define ALIVE_LOOK_MS 1000

/* lws drops a browser that has not answered a ping for twice
 * ping_interval_s. Behind nginx its pong waits behind every frame nginx
 * and the kernel hold for it, so a browser slowly reading a deep backlog
 * would be dropped while it reads (and a cut one lose its close). So
 * consumption is an answer too: the bytes not yet consumed (SIOCOUTQ: for
 * TCP unacknowledged, for a Unix socket unread) fell short of what they
 * were plus what was written since, and some were left at the last look.
 * That backlog is what makes it proof: nginx reads from us only as fast as
 * the browser reads, so a backlog that moves is the browser reading, and a
 * dead or frozen browser's does not move (once the buffers between are
 * full): it is still dropped. Without a backlog nothing is proved (lighttpd
 * and Apache read everything at once, whoever reads them). While lws
 * holds part of a write, what was written is not counted: it may not be
 * in the kernel.
 * Only a browser whose pong is due (lws has pinged it) is confirmed: lws
 * keeps its timers in one sorted list, and confirming each of 10,000
 * browsers after every burst would cost more than the burst. */
static void
alive_look(struct session *s, lws_usec_t now)
{
	struct lws *wsi = s->browser;
	const lws_retry_bo_t *policy = s->p->policy;
	long long consumed;
	bool choked;
	int n;

	/* Once the close frame is asked for, session_await_close_ack holds
	 * the hang-up off. */
	if (wsi == NULL || s->close_ack_until) {
		lws_dll2_remove(&s->progress_node);
		return;
	}
	n = alive_unsent(wsi);
	choked = lws_partial_buffered(wsi);
	consumed = (long long)s->outq - n + (choked ? 0 : (long long)s->wrote);
	if (consumed > 0 && s->outq > 0 && now - s->answered >=
	    (lws_usec_t)policy->secs_since_valid_ping * LWS_US_PER_SEC) {
		lws_validity_confirmed(wsi);
		s->answered = now;
	}
	s->outq = n;
	s->wrote = 0;
	if (n == 0 && !choked)
		lws_dll2_remove(&s->progress_node);
}

static void
alive_cb(lws_sorted_usec_list_t *sul)
{
	struct proxy *p = lws_container_of(sul, struct proxy, sul_progress);
	lws_usec_t now = lws_now_usecs();

	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
	    lws_dll2_get_head(&p->progress)) {
		alive_look(lws_container_of(d, struct session,
		    progress_node), now);
	} lws_end_foreach_dll_safe(d, d1);
	if (p->progress.count)
		lws_sul_schedule(p->ctx, 0, &p->sul_progress,
		    alive_cb, ALIVE_LOOK_MS * LWS_US_PER_MS);
}

void
alive_wrote(struct session *s, size_t len)
{
	struct proxy *p = s->p;

	s->wrote += len;
	if (s->progress_node.owner != NULL || s->close_ack_until ||
	    p->policy == NULL)
		return;
	s->outq = 0;	/* off the list: all it was sent was consumed */
	if (!p->progress.count)
		lws_sul_schedule(p->ctx, 0, &p->sul_progress,
		    alive_cb, ALIVE_LOOK_MS * LWS_US_PER_MS);
	lws_dll2_add_tail(&s->progress_node, &p->progress);
}
