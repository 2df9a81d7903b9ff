/*
 * vhlisten — listening vhosts (see vhlisten.h).
 */
#include "vhlisten.h"

#include <string.h>
#include <sys/stat.h>

#include "listenspec.h"

struct lws_vhost *
vhlisten_create(struct lws_context *ctx,
    struct lws_context_creation_info *info, const char *host, int port,
    const char *unix_path)
{
	struct lws_vhost *vh;
	mode_t um;

	if (unix_path == NULL) {
		info->iface = host;
		info->port = port;
		if (host != NULL && strchr(host, ':') == NULL)
			info->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
		return lws_create_vhost(ctx, info);
	}
	listenspec_unlink_stale(unix_path);
	info->options |= LWS_SERVER_OPTION_UNIX_SOCK;
	info->iface = unix_path;
	info->port = 0;
	/* The web server connects as another user of the socket's group,
	 * like wrg.fcgi's default --socket-mode 0660. bind() creates the
	 * socket with mode 0777 & ~umask: with umask 0117 it is 0660 from
	 * its first moment (no window, no chmod that would follow a
	 * symlink put in its place). Called before any thread starts, so
	 * the process-wide umask change is seen by nothing else. */
	um = umask(0117);
	vh = lws_create_vhost(ctx, info);
	umask(um);
	return vh;
}
