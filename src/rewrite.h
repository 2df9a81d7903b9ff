/*
 * rewrite — checks the shape of a runtime's 2xx JSON answer and rebuilds
 * the browser's view of it: every runtime_id and worker_ref.runtime_id is
 * replaced by the registry id; the other fields of the worker shapes are
 * kept. Anything not shaped as the worker shapes of docs/api.md yields
 * NULL, which the handler answers as runtime_bad_response.
 *
 * Every function takes a parsed root (borrowed; it is modified in place)
 * and returns a new reference owned by the caller.
 */
#ifndef WRG_REWRITE_H
#define WRG_REWRITE_H

#include <stdbool.h>

#include <json-c/json.h>

/* Rewrites one WorkerSummary / WorkerDetail object in place. Needs
 * worker_id (non-empty string), status (string) and worker_ref (object
 * with a worker_id string). */
bool rewrite_worker(struct json_object *w, const char *registry_id);

/* {"workers": [WorkerSummary]} -> the rewritten array. */
struct json_object *rewrite_worker_list(struct json_object *root,
    const char *registry_id);

/* {"worker": WorkerDetail} -> the rewritten worker object. */
struct json_object *rewrite_worker_detail(struct json_object *root,
    const char *registry_id);

/* {"ack": {worker_ref, status, ...}} -> the rewritten ack object. */
struct json_object *rewrite_ack(struct json_object *root,
    const char *registry_id);

/* {"transcript": {worker_ref, items: [{worker_ref, ...}], ...}} -> the
 * rewritten transcript object. */
struct json_object *rewrite_transcript(struct json_object *root,
    const char *registry_id);

/* {"runtime": RuntimeSummary} -> RuntimeView.summary (status, counts,
 * backend, limits; the runtime's own id is dropped). Only integers and
 * [a-z0-9_] words are copied: no free text of the runtime's survives. Sets *max_transcript
 * to limits.max_transcript_projection_items or -1, and *display_name to
 * the runtime's display_name (borrowed from root) or NULL. */
struct json_object *rewrite_runtime_summary(struct json_object *root,
    long *max_transcript, const char **display_name);

#endif
