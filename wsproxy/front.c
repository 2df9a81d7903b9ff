/*
 * front — reading a browser's request head before lws does, then handing
 * the socket to lws (see front.h for why and who owns what).
 */
#include "front.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "head.h"
#include "wlog.h"
#include "xalloc.h"

/* How long a browser may take to send its request head. */
#define FRONT_HEAD_TIMEOUT_S 10

struct front {
	struct lws_vhost *browser_vh;
	/* front_req by fd, only during lws_adopt_socket_vhost_readbuf. */
	struct front_req **by_fd;
	size_t by_fd_cap;
	/* lws 4.1's known header names, for head_parse. */
	char **names;
	struct head_names known;
};

struct front_conn {
	char *buf;		/* HEAD_MAX bytes once the first byte came */
	size_t len;
};

/* The names lws' lexer knows, lower case, without the ':' (headers) or
 * ' ' (methods) that ends them in its table. */
static void
front_known_names(struct front *f)
{
	size_t n = 0, i;

	f->names = xcalloc(WSI_TOKEN_COUNT, sizeof(*f->names));
	for (i = 0; i < WSI_TOKEN_COUNT; i++) {
		const unsigned char *s =
		    lws_token_to_string((enum lws_token_indexes)i);
		size_t len, j;
		char *c;

		if (!s || !*s)
			continue;
		len = strlen((const char *)s);
		c = xstrdup((const char *)s);
		while (len && (c[len - 1] == ':' || c[len - 1] == ' '))
			c[--len] = '\0';
		for (j = 0; j < len; j++)
			c[j] = (char)tolower((unsigned char)c[j]);
		f->names[n++] = c;
	}
	f->known.names = (const char *const *)f->names;
	f->known.count = n;
}

struct front *
front_new(void)
{
	struct front *f = xcalloc(1, sizeof(*f));

	front_known_names(f);
	return f;
}

void
front_set_browser_vhost(struct front *f, struct lws_vhost *browser_vh)
{
	f->browser_vh = browser_vh;
}

static void
front_req_free(struct front_req *r)
{
	if (!r)
		return;
	free(r->target);
	free(r);
}

void
front_free(struct front *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->by_fd_cap; i++)
		front_req_free(f->by_fd[i]);
	free(f->by_fd);
	for (i = 0; i < f->known.count; i++)
		free(f->names[i]);
	free(f->names);
	free(f);
}

const struct front_req *
front_req_of(struct front *f, struct lws *wsi)
{
	struct front_req *r = lws_get_opaque_user_data(wsi);
	int fd;

	if (r || !f)
		return r;
	fd = lws_get_socket_fd(wsi);
	if (fd < 0 || (size_t)fd >= f->by_fd_cap)
		return NULL;
	return f->by_fd[fd];
}

void
front_req_release(struct lws *wsi)
{
	front_req_free(lws_get_opaque_user_data(wsi));
	lws_set_opaque_user_data(wsi, NULL);
}

size_t
front_refusal(char *buf, size_t cap, unsigned status, const char *body)
{
	const char *reason = status == 400 ? "Bad Request" :
	    status == 403 ? "Forbidden" : status == 404 ? "Not Found" :
	    status == 431 ? "Request Header Fields Too Large" :
	    status == 503 ? "Service Unavailable" : "Error";
	int n;

	n = snprintf(buf, cap, "HTTP/1.1 %u %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, reason, strlen(body),
	    body);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

/* Answers a head that cannot be served, on the raw socket. */
static void
front_refuse(struct lws *wsi, enum head_err e)
{
	unsigned char buf[LWS_PRE + 512];
	unsigned status = head_http_status(e);
	size_t n;

	n = front_refusal((char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE,
	    status, status == 431 ?
	    "{\"error\":{\"code\":\"request_too_large\",\"message\":"
	    "\"The request headers are too large.\"}}" :
	    "{\"error\":{\"code\":\"invalid_request\",\"message\":"
	    "\"The request head is malformed or has a header name this "
	    "server cannot read.\"}}");
	if (n)
		lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_RAW);
}

/* Gives the connection to the browser vhost, with what was read. Returns
 * 0 when lws took it (the raw wsi then closes only its own fd). */
static int
front_handoff(struct front *f, struct lws *wsi, struct front_conn *c,
    const struct head *h)
{
	struct front_req *r;
	struct lws *bw;
	int fd, nfd;

	fd = lws_get_socket_fd(wsi);
	nfd = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (nfd < 0) {
		wlog(WLOG_WARN, NULL, NULL, "cannot hand a browser "
		    "connection over: %s", strerror(errno));
		return -1;
	}
	if ((size_t)nfd >= f->by_fd_cap) {
		size_t ncap = f->by_fd_cap ? f->by_fd_cap : 64;

		while (ncap <= (size_t)nfd)
			ncap *= 2;
		f->by_fd = xrealloc(f->by_fd, ncap * sizeof(*f->by_fd));
		memset(f->by_fd + f->by_fd_cap, 0,
		    (ncap - f->by_fd_cap) * sizeof(*f->by_fd));
		f->by_fd_cap = ncap;
	}
	r = xcalloc(1, sizeof(*r));
	r->target = xstrndup(h->target, h->target_len);
	r->path_len = h->path_len;
	memcpy(r->proto, h->proto, sizeof(r->proto));
	front_req_free(f->by_fd[nfd]);
	f->by_fd[nfd] = r;
	/* lws may run the whole upgrade inside this call (callbacks then
	 * find r by fd); on failure it has closed nfd. */
	bw = lws_adopt_socket_vhost_readbuf(f->browser_vh, nfd, c->buf,
	    c->len);
	f->by_fd[nfd] = NULL;
	if (!bw) {
		front_req_free(r);
		return 0;
	}
	lws_set_opaque_user_data(bw, r);
	return 0;
}

static int
front_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct front *f = lws_vhost_user(lws_get_vhost(wsi));
	struct front_conn *c = user;
	struct head h;
	enum head_err e;

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
		    FRONT_HEAD_TIMEOUT_S);
		break;
	case LWS_CALLBACK_RAW_RX:
		if (!c || !f)
			return -1;
		if (!c->buf)
			c->buf = xmalloc(HEAD_MAX);
		if (len > HEAD_MAX - c->len)
			len = HEAD_MAX - c->len;
		memcpy(c->buf + c->len, in, len);
		c->len += len;
		e = head_parse(c->buf, c->len, &f->known, &h);
		if (e == HEAD_INCOMPLETE)
			break;
		if (e != HEAD_OK) {
			wlog(WLOG_INFO, NULL, NULL, "browser request refused: "
			    "%s", head_strerror(e));
			front_refuse(wsi, e);
			return -1;
		}
		front_handoff(f, wsi, c, &h);
		/* Either way this raw wsi is done; lws closes only its
		 * fd (a raw socket gets no shutdown()), the adopted
		 * duplicate lives on. */
		return -1;
	case LWS_CALLBACK_RAW_CLOSE:
		if (c) {
			free(c->buf);
			c->buf = NULL;
		}
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols front_protocols[] = {
	{ "wrg-head", front_cb, sizeof(struct front_conn), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};
