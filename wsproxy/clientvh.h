/*
 * clientvh — the lws client vhosts that carry wrg-wsproxy's upstream
 * legs: one per distinct TLS setting (ca_file, client_cert, client_key),
 * re-read on SIGHUP so certificates rotated in place (ACME,
 * cert-manager) take effect without a restart.
 *
 * lws 4.1 reads a client vhost's TLS files once, when the vhost is made,
 * and shares one SSL_CTX between every client vhost whose settings hash
 * alike; the hash covers the file *paths*, not their contents
 * (lws_tls_client_create_vhost_context, openssl-client.c v4.1.6). A new
 * vhost made for a rotated file while an old one with the same paths is
 * alive would get the old SSL_CTX. So each vhost's paths are spelled per
 * generation ("/etc/x/ca.pem", "/./etc/x/ca.pem", "/././etc/x/ca.pem",
 * ...): the smallest spelling that no live vhost with other file
 * contents uses. A spelling is free again once its vhost is freed.
 *
 * Ownership: the set owns every record. A record lives until its lws
 * vhost is freed (lws calls the vhost's finalize hook, which only marks
 * the record; the next sweep or clientvh_set_free frees it). All calls
 * on the lws service thread.
 */
#ifndef WRG_WSPROXY_CLIENTVH_H
#define WRG_WSPROXY_CLIENTVH_H

#include <libwebsockets.h>

#include "registry.h"

struct clientvh_set;
struct clientvh;

/* A set making vhosts in ctx with protocols and policy (both must
 * outlive the set; policy may be NULL). */
struct clientvh_set *clientvh_set_new(struct lws_context *ctx,
    const struct lws_protocols *protocols, const lws_retry_bo_t *policy);

/* Cancels the pending sweep: call before lws_context_destroy. */
void clientvh_set_stop(struct clientvh_set *set);

/* Frees the records. Call after lws_context_destroy (which frees the
 * vhosts); NULL is a no-op. */
void clientvh_set_free(struct clientvh_set *set);

/* The current vhost for TLS settings t, made (files read) if there is
 * none since the last reload that changed them. NULL: lws could not set
 * it up (logged, with runtime_id). The record stays the set's. */
struct clientvh *clientvh_get(struct clientvh_set *set,
    const struct registry_tls *t, const char *runtime_id);

/* The lws vhost to connect through. */
struct lws_vhost *clientvh_vhost(const struct clientvh *c);

/* An upstream leg was bound to c / is over. */
void clientvh_leg_add(struct clientvh *c);
void clientvh_leg_done(struct clientvh *c);

/* lws 4.1.6 completes a vhost's destruction only if no wsi is bound to
 * it at lws_vhost_destroy (a deferred one waits for the context's end:
 * it never sets being_destroyed), and a detached leg's wsi can linger
 * while its close handshake runs. So the wsi are counted too: call
 * clientvh_connect_begin before lws_client_connect_via_info,
 * clientvh_connect_end after it with what it returned, and
 * clientvh_wsi_gone from LWS_CALLBACK_WSI_DESTROY of every client wsi.
 * A stale record without legs and wsi is destroyed soon after (from a
 * timer, outside any of its callbacks). */
void clientvh_connect_begin(struct clientvh *c);
void clientvh_connect_end(struct clientvh *c, const struct lws *wsi);
void clientvh_wsi_gone(struct clientvh_set *set, const struct lws_vhost *vh);

/* SIGHUP: reads every current vhost's files again; those whose contents
 * changed become stale (new legs get a fresh vhost, legs already up keep
 * the old one until they end). Returns how many became stale. */
unsigned clientvh_reload(struct clientvh_set *set);

#endif
