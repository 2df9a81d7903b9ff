/*
 * rtreq — runtime paths, authorities and credentials (see rtreq.h).
 */
#include "rtreq.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "xalloc.h"

char *
rtreq_worker_path(const char *base_path, const char *worker_id, size_t len,
    const char *suffix)
{
	char *seg, *path;

	/* curl leaves '.' unescaped (unreserved): "." and ".." would stay
	 * dot-segments, and "" would address the collection. */
	if (len == 0 || len > INT_MAX || (len <= 2 &&
	    memcmp(worker_id, "..", len) == 0))
		return NULL;
	seg = curl_easy_escape(NULL, worker_id, (int)len);
	if (seg == NULL)
		return NULL;
	path = xasprintf("%s/v1/workers/%s%s",
	    base_path != NULL ? base_path : "", seg,
	    suffix != NULL ? suffix : "");
	curl_free(seg);
	return path;
}

char *
rtreq_authority(const char *host, int port)
{
	const char *open = "", *close = "";

	/* Only an IPv6 address has a ':' in a host. */
	if (strchr(host, ':') != NULL && host[0] != '[') {
		open = "[";
		close = "]";
	}
	if (port <= 0)
		return xasprintf("%s%s%s", open, host, close);
	return xasprintf("%s%s%s:%d", open, host, close, port);
}

char *
rtreq_bearer(const char *token, enum rtreq_bearer_form form)
{
	return xasprintf("%sBearer %s",
	    form == RTREQ_BEARER_HEADER ? "Authorization: " : "", token);
}

void
rtreq_secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
