/*
 * registry — the one registry config of wrg, read by both wrg.fcgi and
 * wrg-wsproxy. JSON with // and slash-star comments, parsed by json-c, validated
 * completely at load: any problem stops startup with "FILE: key: reason".
 * Config path: -c FILE, else $WRG_CONFIG, else $(sysconfdir)/wrg/wrg.conf.
 *
 * Secrets: bearer tokens live in an opaque side table (struct
 * registry_secrets) reached only through registry_token(), so that no
 * struct here that anyone prints or logs can carry one.
 */
#ifndef WRG_REGISTRY_H
#define WRG_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define REGISTRY_ID_MAX 64
#define REGISTRY_METRICS_STATE "/run/wrg-fcgi/metrics"

enum registry_transport {
	REGISTRY_TRANSPORT_HTTP = 0,
	REGISTRY_TRANSPORT_HTTPS,
	REGISTRY_TRANSPORT_UNIX
};

/* A runtime's TLS settings; also the TLS file triple other structs keep
 * (wsproxy/clientvh.c). The strings are owned. */
struct registry_tls {
	char *ca_file;		/* NULL: the system trust store */
	bool verify;		/* default true */
	char *client_cert;	/* NULL: no client certificate */
	char *client_key;	/* NULL: key is in client_cert or none */
};

/* Sets *dst to a copy of src (dst's old strings are not freed). */
void registry_tls_copy(struct registry_tls *dst,
    const struct registry_tls *src);

/* Whether a and b name the same three files (verify is not compared). */
bool registry_tls_same_files(const struct registry_tls *a,
    const struct registry_tls *b);

/* Frees t's strings and zeroes it. */
void registry_tls_clear(struct registry_tls *t);

struct registry_runtime {
	char *id;		/* [A-Za-z0-9._-]{1,64}, unique */
	char *display_name;	/* NULL when not configured */
	char *base_url;		/* as configured; for operator logs only */
	enum registry_transport transport;
	/* Parsed from base_url. http(s): host (IPv6 without brackets) and
	 * port (explicit or 80/443). unix: host "localhost", port 0. */
	char *host;
	int port;
	/* Path of base_url without a trailing '/', "" when none; remote
	 * paths are base_path + "/v1/...". Always "" for unix. */
	char *base_path;
	char *unix_path;	/* unix: the socket path; else NULL */
	long connect_timeout_ms; /* default 2000 */
	long request_timeout_ms; /* default 10000 */
	struct registry_tls tls;
	size_t index;		/* position in registry.runtimes */
};

struct registry_wsproxy {
	char *listen;		/* as configured, "127.0.0.1:8792" default */
	char *listen_host;	/* TCP: address; NULL for unix */
	int listen_port;	/* TCP: port; 0 for unix */
	char *listen_unix;	/* unix: socket path; else NULL */
	unsigned max_connections;	/* default 10000 */
	size_t send_queue_max_bytes;	/* default 1 MiB */
	unsigned ping_interval_s;	/* default 30; 0 disables pings */
	unsigned reconnect_initial_ms;	/* default 250 */
	unsigned reconnect_max_ms;	/* default 10000 */
	/* How long a worker's shared upstream stays after its last browser
	 * left, and how many bytes of its newest frames it keeps for
	 * browsers joining a little behind (feed.h). */
	unsigned feed_linger_ms;	/* default 2000 */
	size_t feed_replay_bytes;	/* default 1048576 */
	/* Prometheus /metrics listener (wsproxy.metrics_listen), as for
	 * listen; metrics_listen NULL: off (the default). */
	char *metrics_listen;
	char *metrics_host;
	int metrics_port;
	char *metrics_unix;
};

struct registry_secrets;

struct registry {
	char *path;		/* the file it was loaded from */
	char *api_prefix;	/* default "/api"; no trailing '/' */
	bool log_json;		/* "log_format": "json"; default "text" */
	char **allowed_origins;	/* "scheme://host[:port]", no path */
	size_t allowed_origin_count;
	size_t max_request_body_bytes;	/* default 1 MiB */
	size_t max_upstream_body_bytes;	/* default 8 MiB */
	unsigned fcgi_threads;		/* event loops; 0 (default): one
					 * per online CPU */
	/* Use a valid X-Request-Id from the request (the front end is
	 * trusted to set or vet it); default false: always generate. */
	bool fcgi_trust_request_id;
	/* fcgi.metrics_path: the exact path (outside api_prefix) where
	 * wrg.fcgi answers with its Prometheus metrics; NULL: off (the
	 * default). fcgi.metrics_state: the state file every wrg.fcgi
	 * process of the deployment shares (src/fcgim.h). */
	char *fcgi_metrics_path;
	char *fcgi_metrics_state;	/* default REGISTRY_METRICS_STATE */
	struct registry_wsproxy wsproxy;
	struct registry_runtime *runtimes;
	size_t runtime_count;
	struct registry_secrets *secrets;	/* opaque; never printed */
};

/* Returns the config path to use: cli_path if non-NULL, else $WRG_CONFIG
 * if set and non-empty, else WRG_SYSCONFDIR "/wrg/wrg.conf". The result
 * is either cli_path, getenv()'s storage or a static string: not owned. */
const char *registry_config_path(const char *cli_path);

/* Loads and validates the config file at path. On success returns a new
 * registry owned by the caller (free with registry_free) and sets *errmsg
 * to NULL. On failure returns NULL and sets *errmsg to a malloc'd
 * "FILE: key: reason" line owned by the caller. Warnings (e.g. a token file
 * readable by group/other) are logged through wlog, never fatal. */
struct registry *registry_load_file(const char *path, char **errmsg);

/* As registry_load_file, from a buffer; name is used in messages and as
 * registry.path. Relative token_file paths resolve against the current
 * directory. */
struct registry *registry_load_buffer(const char *name, const char *text,
    size_t len, char **errmsg);

/* Frees a registry and wipes its tokens. NULL is a no-op. */
void registry_free(struct registry *reg);

/* The runtime with this registry id, or NULL. Borrowed from reg. */
const struct registry_runtime *registry_find(const struct registry *reg,
    const char *id);

/* The bearer token for rt, or NULL when that runtime uses no auth.
 * Borrowed from reg; never log or print it. */
const char *registry_token(const struct registry *reg,
    const struct registry_runtime *rt);

/* Whether runtime id is reached the same way under a and b: the same
 * transport, host, port, base path, socket path, token and TLS settings
 * (files by path: their contents are clientvh's business). Timeouts and
 * the display name do not count. False when either has no such runtime.
 * wrg-wsproxy keeps a worker's shared upstream across a reload only
 * then. */
bool registry_same_upstream(const struct registry *a,
    const struct registry *b, const char *id);

/* The transport name shown to browsers: "http", "https" or "unix". */
const char *registry_transport_name(enum registry_transport t);

/* Prints the parsed registry, defaults filled in, secrets redacted (token
 * shown only as its source kind), as JSON — for --check-config. */
void registry_print(const struct registry *reg, FILE *out);

#endif
