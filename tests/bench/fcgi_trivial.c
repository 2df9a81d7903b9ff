/*
 * fcgi_trivial — the FastCGI ceiling for scripts/bench.sh: a responder
 * that answers every request with one fixed JSON body and does nothing
 * else. It speaks FastCGI through wrg.fcgi's own record layer
 * (src/fcgirec.c), on one thread with epoll, so a web server's kept
 * connections never pin it: the difference between a web server in
 * front of this and in front of wrg.fcgi is wrg.fcgi's own work (the
 * handler, the runtime call, the thread model), not the protocol.
 * docs/bench.md says why this and not a libfcgi program.
 *
 *   fcgi-trivial -s /path/to/socket
 *
 * Creates the Unix socket (mode 0666), serves until SIGTERM/SIGINT.
 * Bench-only: no caps beyond fcgirec's, no deadlines.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "fcgirec.h"

static const char trivial_head[] =
    "Status: 200 OK\r\nContent-Type: application/json\r\n"
    "Cache-Control: no-store\r\n\r\n";
static const char trivial_body[] =
    "{\"worker\":{\"worker_ref\":{\"runtime_id\":\"alpha\","
    "\"worker_id\":\"w\"},\"status\":\"running\"}}";

static volatile sig_atomic_t trivial_stop;

static void
trivial_on_signal(int sig)
{
	(void)sig;
	trivial_stop = 1;
}

struct trivial_conn {
	int fd;
	struct fcgirec_parser *p;
};

/* Writes all of iov (blocking on EAGAIN with poll-free retries is fine
 * for a few hundred bytes into a fresh socket buffer). */
static int
trivial_write(int fd, struct fcgirec_out *o)
{
	while (!fcgirec_out_done(o)) {
		struct iovec iov[FCGIREC_OUT_IOV];
		int cnt = fcgirec_out_iov(o, iov);
		ssize_t n = writev(fd, iov, cnt);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		fcgirec_out_advance(o, (size_t)n);
	}
	return 0;
}

/* Reads and answers; returns -1 when the connection is to be closed. */
static int
trivial_on_read(struct trivial_conn *c)
{
	uint8_t buf[16384];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	size_t off = 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	while (off < (size_t)n) {
		struct fcgirec_event ev;
		size_t used, rl;
		const uint8_t *rp;

		if (fcgirec_feed(c->p, buf + off, (size_t)n - off, &used,
		    &ev) != FCGIREC_OK)
			return -1;
		off += used;
		if (ev.kind == FCGIREC_EV_REQUEST) {
			struct fcgirec_req *r = fcgirec_take(c->p);
			struct fcgirec_out o;
			bool keep = r->keep_conn;

			fcgirec_out_init(&o, r->id, trivial_head,
			    sizeof(trivial_head) - 1, trivial_body,
			    sizeof(trivial_body) - 1);
			fcgirec_req_free(r);
			if (trivial_write(c->fd, &o) != 0)
				return -1;
			fcgirec_done(c->p);
			if (!keep)
				return -1;
		}
		rp = fcgirec_reply(c->p, &rl);
		if (rl > 0) {
			if (write(c->fd, rp, rl) != (ssize_t)rl)
				return -1;
			fcgirec_reply_consume(c->p, rl);
		}
	}
	return 0;
}

static int
trivial_listen(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 1024) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct fcgirec_limits lim = { 128 * 1024, 1024 * 1024, 1024 };
	struct sigaction sa;
	int lfd, ep;

	if (argc != 3 || strcmp(argv[1], "-s") != 0) {
		fprintf(stderr, "usage: fcgi-trivial -s SOCKET_PATH\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = trivial_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = trivial_listen(argv[2]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0) {
		perror("fcgi-trivial");
		return 1;
	}
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	while (!trivial_stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 500);

		for (int i = 0; i < n; i++) {
			struct trivial_conn *c = evs[i].data.ptr;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct epoll_event ev = {
					    .events = EPOLLIN };

					c = calloc(1, sizeof(*c));
					if (c == NULL)
						abort();
					c->fd = fd;
					c->p = fcgirec_parser_new(&lim);
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (trivial_on_read(c) != 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				fcgirec_parser_free(c->p);
				free(c);
			}
		}
	}
	unlink(argv[2]);
	close(ep);
	close(lfd);
	return 0;
}
