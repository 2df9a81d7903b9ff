/*
 * hdrgate — a gate in front of an lws 4.1 HTTP server vhost that looks
 * at each new connection's request head before lws reads it and lets
 * lws have only the heads its header lexer reads correctly (hdrscan.h
 * says which).
 *
 * The listening vhost's only protocol ("wrg-hdrgate") takes every
 * accepted socket away from lws (LWS_CALLBACK_FILTER_NETWORK_CONNECTION)
 * and peeks at it (MSG_PEEK, nothing consumed) until the head is
 * complete, with a cap and a deadline. Then it either answers itself —
 * 400 (a header lws would misread, a malformed head), 431 (too large),
 * 408 (head not complete in time) with a JSON error body and
 * Connection: close — or hands the untouched socket to the target vhost
 * (then with the opaque data hdrgate_set_on_pass made of the head), where
 * the program's own protocols serve it as if lws had accepted it.
 *
 * Only the first request of a connection passes the gate: a keep-alive
 * follow-up is read by lws directly (see docs/wsproxy.md).
 *
 * Use: g = hdrgate_new(); hdrgate_listen_info(g, &info) on the listening
 * vhost's creation info (port/iface/options set by the caller), create
 * it; create the target vhost with port CONTEXT_PORT_NO_LISTEN_SERVER,
 * the real protocols and timeout_secs_ah_idle = HDRGATE_AH_IDLE_S; then
 * hdrgate_set_target(g, target). The context needs
 * max_http_header_data >= HDRGATE_HEADER_DATA. No TLS on either vhost.
 *
 * Ownership: the program owns the struct hdrgate; it must outlive the
 * lws context (lws points at its protocol table) and is freed with
 * hdrgate_free() after lws_context_destroy().
 */
#ifndef WRG_HDRGATE_H
#define WRG_HDRGATE_H

#include <libwebsockets.h>

/* Longest request head accepted (request line, headers, blank line). */
#define HDRGATE_HEAD_MAX 16384
/* What lws needs to hold such a head (per-header overhead: unknown
 * header bookkeeping, NULs): info.max_http_header_data. */
#define HDRGATE_HEADER_DATA (HDRGATE_HEAD_MAX + 4096)
/* A head must be complete this long after the connection opened. */
#define HDRGATE_TIMEOUT_MS 3000
/* The target vhost's timeout_secs_ah_idle: bounds a keep-alive
 * follow-up request whose head lws never sees the end of. */
#define HDRGATE_AH_IDLE_S 3

struct hdrgate;

/* A new gate with the lexicon of this lws build; the caller owns it. */
struct hdrgate *hdrgate_new(void);

/* Sets protocols and user of the listening vhost's creation info. */
void hdrgate_listen_info(struct hdrgate *g,
    struct lws_context_creation_info *info);

/* The vhost clean requests are handed to (set before serving). */
void hdrgate_set_target(struct hdrgate *g, struct lws_vhost *target);

/* Called for each head the gate passes (head[0..len), the request line
 * and fields up to the empty line, as the peer sent them); what it
 * returns becomes the adopted wsi's opaque user data
 * (lws_get_opaque_user_data), owned by the program, which frees it when
 * that wsi is destroyed. If the adoption fails the gate frees it with
 * free_opaque. */
typedef void *(*hdrgate_pass_fn)(void *arg, const char *head, size_t len);
void hdrgate_set_on_pass(struct hdrgate *g, hdrgate_pass_fn on_pass,
    void (*free_opaque)(void *), void *arg);

/* Frees the gate (after lws_context_destroy); NULL is a no-op. */
void hdrgate_free(struct hdrgate *g);

#endif
