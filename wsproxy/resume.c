/*
 * resume — exactly-once bookkeeping across upstream reconnects and the
 * backoff schedule (see resume.h).
 */
#include "resume.h"

#include <stdio.h>
#include <string.h>

void
resume_init(struct resume *r, const char *browser_cursor)
{
	memset(r, 0, sizeof(*r));
	if (browser_cursor != NULL)
		snprintf(r->cursor, sizeof(r->cursor), "%s", browser_cursor);
}

const char *
resume_connect_cursor(const struct resume *r)
{
	return r->cursor[0] ? r->cursor : NULL;
}

enum resume_verdict
resume_on_event(struct resume *r, const char *cursor, bool snapshot)
{
	if (snapshot) {
		if (r->have_state && !r->resync)
			return RESUME_DROP;
		r->have_state = true;
		r->resync = false;
		/* A snapshot is taken at its cursor: resuming from there
		 * misses nothing when we had no position of our own. With
		 * a position, the backlog after it is still to come. */
		if (!r->cursor[0] && cursor != NULL)
			snprintf(r->cursor, sizeof(r->cursor), "%s", cursor);
		return RESUME_FORWARD;
	}
	if (cursor != NULL)
		snprintf(r->cursor, sizeof(r->cursor), "%s", cursor);
	return RESUME_FORWARD;
}

void
resume_on_expired(struct resume *r)
{
	r->cursor[0] = '\0';
	r->resync = true;
}

void
resume_on_healthy(struct resume *r)
{
	r->attempt = 0;
}

unsigned
resume_backoff_ms(unsigned attempt, unsigned initial_ms, unsigned max_ms)
{
	unsigned long long d;

	if (initial_ms == 0)
		initial_ms = 1;
	if (max_ms < initial_ms)
		max_ms = initial_ms;
	if (attempt >= 32)
		return max_ms;
	d = (unsigned long long)initial_ms << attempt;
	return d > max_ms ? max_ms : (unsigned)d;
}

unsigned
resume_next_delay_ms(struct resume *r, unsigned initial_ms, unsigned max_ms)
{
	unsigned d = resume_backoff_ms(r->attempt, initial_ms, max_ms);

	if (r->attempt < 32)
		r->attempt++;
	return d;
}
