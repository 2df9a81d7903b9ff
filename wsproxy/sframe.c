/*
 * sframe — shared browser frames (see sframe.h).
 */
#include "sframe.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct sframe *
sframe_new(const char *data, size_t len, size_t headroom)
{
	struct sframe *f = xmalloc(sizeof(*f) + headroom + len + 1);

	f->refs = 1;
	f->len = len;
	f->headroom = headroom;
	f->has_seq = false;
	f->seq = 0;
	f->cursor[0] = '\0';
	memcpy(f->buf + headroom, data, len);
	f->buf[headroom + len] = '\0';
	return f;
}

struct sframe *
sframe_ref(struct sframe *f)
{
	f->refs++;
	return f;
}

void
sframe_unref(struct sframe *f)
{
	if (f != NULL && --f->refs == 0)
		free(f);
}

size_t
sframe_ws_header(unsigned char *out, size_t len)
{
	size_t n, i;

	out[0] = 0x81;		/* FIN, text */
	if (len < 126) {
		out[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		n = 2;
	} else {
		out[1] = 127;
		n = 8;
	}
	for (i = 0; i < n; i++)		/* network byte order */
		out[2 + i] = (unsigned char)((uint64_t)len >> (8 * (n - 1 - i)));
	return 2 + n;
}
