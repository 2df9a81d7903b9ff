/*
 * clientvh — client vhosts per TLS setting, re-read on SIGHUP, spelled
 * per generation so lws 4.1 never hands a new vhost an old SSL_CTX (see
 * clientvh.h).
 */
#include "clientvh.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wlog.h"
#include "xalloc.h"

/* Biggest TLS file whose contents are compared (the Debian system CA
 * bundle is ~220 KB); a bigger one counts as unreadable. */
#define CLIENTVH_FILE_MAX (4 * 1024 * 1024)
/* Spellings tried: more than the vhosts that can be alive at once with
 * the same paths (one per reload that changed them during a leg's
 * life) would ever need. */
#define CLIENTVH_GEN_MAX 64

/* What a vhost's files held when it was made: each file's length and
 * bytes, one after the other. */
struct clientvh_content {
	unsigned char *buf;
	size_t len;
};

struct clientvh {
	struct clientvh *next;
	struct clientvh_set *set;
	struct registry_tls conf;	/* the files as configured (verify
					 * is per connection: unused) */
	struct registry_tls spelled;	/* as lws is given them */
	char *hashin;			/* the spelled files: what lws
					 * hashes */
	unsigned gen;
	struct clientvh_content content;
	/* lws keeps the vhost_name pointer until it frees the vhost. */
	char name[32];
	struct lws_vhost *vh;		/* NULL once lws freed it */
	unsigned legs;			/* upstream legs bound to vh */
	unsigned wsis;			/* client wsi bound to vh */
	unsigned gone;			/* WSI_DESTROYs seen (connect_end) */
	bool stale;			/* files changed since it was made */
	bool destroying;		/* lws_vhost_destroy called */
	bool creating;			/* inside lws_create_vhost */
};

struct clientvh_set {
	struct lws_context *ctx;
	const struct lws_protocols *protocols;
	const lws_retry_bo_t *policy;
	struct clientvh *list;
	unsigned seq;
	bool stopped;		/* the context is going: no more timers */
	lws_sorted_usec_list_t sul_sweep;
};

struct clientvh_set *
clientvh_set_new(struct lws_context *ctx,
    const struct lws_protocols *protocols, const lws_retry_bo_t *policy)
{
	struct clientvh_set *set = xcalloc(1, sizeof(*set));

	set->ctx = ctx;
	set->protocols = protocols;
	set->policy = policy;
	return set;
}

static void
clientvh_content_free(struct clientvh_content *ct)
{
	if (ct->buf != NULL) {
		/* A client key may be among the bytes. */
		explicit_bzero(ct->buf, ct->len);
		free(ct->buf);
	}
	ct->buf = NULL;
	ct->len = 0;
}

/* Appends path's length and bytes to ct. -1: unreadable or too big. */
static int
clientvh_content_add(struct clientvh_content *ct, const char *path)
{
	FILE *f = NULL;
	uint64_t n = 0;
	long sz;
	int rc = -1;

	if (path == NULL) {
		ct->buf = xrealloc(ct->buf, ct->len + sizeof(n));
		memcpy(ct->buf + ct->len, &n, sizeof(n));
		ct->len += sizeof(n);
		return 0;
	}
	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
	    sz > CLIENTVH_FILE_MAX || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	n = (uint64_t)sz;
	ct->buf = xrealloc(ct->buf, ct->len + sizeof(n) + (size_t)sz + 1);
	memcpy(ct->buf + ct->len, &n, sizeof(n));
	if (fread(ct->buf + ct->len + sizeof(n), 1, (size_t)sz + 1, f) !=
	    (size_t)sz)
		goto out;	/* changed size while read: try later */
	ct->len += sizeof(n) + (size_t)sz;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	return rc;
}

/* Reads the three files (absent ones as empty). -1: one is unreadable;
 * ct is then empty. */
static int
clientvh_content_read(struct clientvh_content *ct,
    const struct registry_tls *files)
{
	memset(ct, 0, sizeof(*ct));
	if (clientvh_content_add(ct, files->ca_file) < 0 ||
	    clientvh_content_add(ct, files->client_cert) < 0 ||
	    clientvh_content_add(ct, files->client_key) < 0) {
		clientvh_content_free(ct);
		return -1;
	}
	return 0;
}

static bool
clientvh_content_same(const struct clientvh_content *a,
    const struct clientvh_content *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->buf, b->buf, a->len) == 0);
}

/* path in generation gen: "./" gen times after the leading '/' (or in
 * front of a relative path). The same file, another string for lws. */
static char *
clientvh_spell(const char *path, unsigned gen)
{
	size_t n, abs;
	char *s, *w;
	unsigned i;

	if (path == NULL)
		return NULL;
	n = strlen(path);
	abs = path[0] == '/';
	s = xmalloc(n + 2 * (size_t)gen + 1);
	w = s;
	if (abs)
		*w++ = '/';
	for (i = 0; i < gen; i++) {
		*w++ = '.';
		*w++ = '/';
	}
	memcpy(w, path + abs, n - abs + 1);
	return s;
}

static void
clientvh_free(struct clientvh *c)
{
	if (c == NULL)
		return;
	registry_tls_clear(&c->conf);
	registry_tls_clear(&c->spelled);
	free(c->hashin);
	clientvh_content_free(&c->content);
	free(c);
}

static void
clientvh_unlink(struct clientvh *c)
{
	struct clientvh **pc;

	for (pc = &c->set->list; *pc != NULL; pc = &(*pc)->next)
		if (*pc == c) {
			*pc = c->next;
			break;
		}
}

/* lws frees the vhost (and drops its SSL_CTX reference): its spelling
 * is free again. Inside lws_create_vhost (a failed setup) the creator
 * frees the record instead. */
static void
clientvh_finalize(struct lws_vhost *vh, void *arg)
{
	struct clientvh *c = arg;

	(void)vh;
	c->vh = NULL;
	if (c->creating)
		return;
	wlog(WLOG_DEBUG, NULL, NULL, "client vhost %s freed", c->name);
	clientvh_unlink(c);
	clientvh_free(c);
}

/* Sets c's spelled paths for generation gen. */
static void
clientvh_spell_all(struct clientvh *c, unsigned gen)
{
	registry_tls_clear(&c->spelled);
	free(c->hashin);
	c->gen = gen;
	c->spelled.ca_file = clientvh_spell(c->conf.ca_file, gen);
	c->spelled.client_cert = clientvh_spell(c->conf.client_cert, gen);
	/* No client_key: the key is in client_cert (as curl assumes). lws
	 * loads no key unless given a path, and OpenSSL then sends no
	 * certificate at all. */
	c->spelled.client_key = clientvh_spell(c->conf.client_key != NULL ?
	    c->conf.client_key : c->conf.client_cert, gen);
	c->hashin = xasprintf("%s%s%s",
	    c->spelled.ca_file != NULL ? c->spelled.ca_file : "",
	    c->spelled.client_cert != NULL ? c->spelled.client_cert : "",
	    c->spelled.client_key != NULL ? c->spelled.client_key : "");
}

/* The smallest generation whose spelling no live vhost with other
 * contents hashes alike (lws would share that vhost's SSL_CTX); -1 if
 * none. The same contents may share. */
static int
clientvh_pick_gen(struct clientvh_set *set, struct clientvh *c)
{
	const struct clientvh *o;
	unsigned gen;

	for (gen = 0; gen < CLIENTVH_GEN_MAX; gen++) {
		clientvh_spell_all(c, gen);
		for (o = set->list; o != NULL; o = o->next)
			if (o->vh != NULL &&
			    strcmp(o->hashin, c->hashin) == 0 &&
			    !clientvh_content_same(&o->content, &c->content))
				break;
		if (o == NULL)
			return (int)gen;
	}
	return -1;
}

struct clientvh *
clientvh_get(struct clientvh_set *set, const struct registry_tls *t,
    const char *runtime_id)
{
	struct lws_context_creation_info info;
	struct clientvh *c;

	for (c = set->list; c != NULL; c = c->next)
		if (c->vh != NULL && !c->stale && !c->destroying &&
		    registry_tls_same_files(&c->conf, t))
			return c;
	c = xcalloc(1, sizeof(*c));
	c->set = set;
	registry_tls_copy(&c->conf, t);
	if (clientvh_content_read(&c->content, &c->conf) < 0)
		/* lws reports what it cannot load. Empty contents:
		 * shared only with vhosts that could not read theirs. */
		wlog(WLOG_WARN, NULL, runtime_id, "cannot read the TLS files "
		    "(ca_file, client_cert, client_key)");
	if (clientvh_pick_gen(set, c) < 0) {
		wlog(WLOG_ERR, NULL, runtime_id, "too many generations of "
		    "the same TLS files alive at once");
		clientvh_free(c);
		return NULL;
	}
	snprintf(c->name, sizeof(c->name), "client-%u", set->seq++);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	/* Without this lws makes no client SSL_CTX for the vhost. */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.vhost_name = c->name;
	info.protocols = set->protocols;
	info.client_ssl_ca_filepath = c->spelled.ca_file;
	info.client_ssl_cert_filepath = c->spelled.client_cert;
	info.client_ssl_private_key_filepath = c->spelled.client_key;
	info.retry_and_idle_policy = set->policy;
	info.finalize = clientvh_finalize;
	info.finalize_arg = c;
	c->creating = true;
	c->vh = lws_create_vhost(set->ctx, &info);
	c->creating = false;
	if (c->vh == NULL) {
		wlog(WLOG_ERR, NULL, runtime_id,
		    "cannot set up the client TLS settings (ca_file, "
		    "client_cert)");
		clientvh_free(c);
		return NULL;
	}
	wlog(WLOG_DEBUG, NULL, runtime_id, "client vhost %s made "
	    "(generation %u)", c->name, c->gen);
	c->next = set->list;
	set->list = c;
	return c;
}

struct lws_vhost *
clientvh_vhost(const struct clientvh *c)
{
	return c->vh;
}

/* Destroys the stale vhosts no leg uses any more. Runs from a timer,
 * never inside a callback of one of their wsi. */
static void
clientvh_sweep_cb(lws_sorted_usec_list_t *sul)
{
	struct clientvh_set *set = lws_container_of(sul,
	    struct clientvh_set, sul_sweep);
	struct clientvh **pc = &set->list, *c;

	while ((c = *pc) != NULL) {
		if (!c->stale || c->legs || c->wsis || c->destroying ||
		    c->vh == NULL) {
			pc = &c->next;
			continue;
		}
		c->destroying = true;
		wlog(WLOG_INFO, NULL, NULL, "client vhost %s (TLS files read "
		    "before the last change) retired: no upstream leg left",
		    c->name);
		/* Nothing bound: lws frees it (finalize frees c) now. */
		lws_vhost_destroy(c->vh);
		if (*pc == c) {
			wlog(WLOG_WARN, NULL, NULL, "client vhost %s: lws "
			    "still holds connections on it; freed at exit",
			    c->name);
			pc = &c->next;
		}
	}
}

static void
clientvh_sweep_soon(struct clientvh_set *set)
{
	if (!set->stopped)
		lws_sul_schedule(set->ctx, 0, &set->sul_sweep,
		    clientvh_sweep_cb, 1);
}

void
clientvh_leg_add(struct clientvh *c)
{
	c->legs++;
}

void
clientvh_leg_done(struct clientvh *c)
{
	if (c != NULL && c->legs)
		c->legs--;
}

void
clientvh_connect_begin(struct clientvh *c)
{
	/* The wsi the call makes, if it makes one, is bound to c->vh. */
	c->wsis++;
	c->gone = 0;
}

void
clientvh_connect_end(struct clientvh *c, const struct lws *wsi)
{
	/* NULL without a WSI_DESTROY inside the call: no wsi (or one lws
	 * freed silently) is left bound. */
	if (wsi == NULL && !c->gone && c->wsis)
		c->wsis--;
}

void
clientvh_wsi_gone(struct clientvh_set *set, const struct lws_vhost *vh)
{
	struct clientvh *c;

	for (c = set->list; c != NULL; c = c->next)
		if (c->vh == vh)
			break;
	if (c == NULL)
		return;
	c->gone++;
	if (c->wsis && --c->wsis == 0 && c->stale && !c->legs)
		clientvh_sweep_soon(set);
}

unsigned
clientvh_reload(struct clientvh_set *set)
{
	struct clientvh_content now;
	struct clientvh *c;
	unsigned n = 0;

	for (c = set->list; c != NULL; c = c->next) {
		if (c->stale || c->destroying || c->vh == NULL)
			continue;
		if (clientvh_content_read(&now, &c->conf) < 0) {
			/* Mid-rotation, or gone: what was read before
			 * keeps serving until a reload can read them. */
			wlog(WLOG_WARN, NULL, NULL, "reload: cannot read the "
			    "TLS files of client vhost %s (ca_file %s): "
			    "keeping the ones read before", c->name,
			    c->conf.ca_file != NULL ? c->conf.ca_file : "-");
			continue;
		}
		if (!clientvh_content_same(&now, &c->content)) {
			c->stale = true;
			n++;
			wlog(WLOG_INFO, NULL, NULL, "reload: TLS files of "
			    "client vhost %s changed (ca_file %s): new "
			    "upstream connections read them again", c->name,
			    c->conf.ca_file != NULL ? c->conf.ca_file : "-");
		}
		clientvh_content_free(&now);
	}
	if (n)
		clientvh_sweep_soon(set);
	return n;
}

void
clientvh_set_stop(struct clientvh_set *set)
{
	if (set == NULL)
		return;
	set->stopped = true;
	lws_sul_cancel(&set->sul_sweep);
}

void
clientvh_set_free(struct clientvh_set *set)
{
	struct clientvh *c, *cn;

	if (set == NULL)
		return;
	for (c = set->list; c != NULL; c = cn) {
		cn = c->next;
		clientvh_free(c);
	}
	free(set);
}
