/*
 * rewrite — shape checks and registry-id rewriting of runtime answers
 * (see rewrite.h). json-c rules: get borrows, add takes a reference; a
 * member returned to the caller gets json_object_get first.
 */
#include "rewrite.h"

#include <stdlib.h>
#include <string.h>

#include "wjson.h"

/* Borrowed member key of obj if it has type t, else NULL. */
static struct json_object *
rewrite_member(struct json_object *obj, const char *key, json_type t)
{
	struct json_object *m;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &m) ||
	    !json_object_is_type(m, t))
		return NULL;
	return m;
}

static bool
rewrite_ref(struct json_object *ref, const char *registry_id)
{
	const char *wid;

	if (ref == NULL || !json_object_is_type(ref, json_type_object))
		return false;
	wid = wjson_get_string(ref, "worker_id");
	if (wid == NULL || wid[0] == '\0')
		return false;
	json_object_object_add(ref, "runtime_id",
	    json_object_new_string(registry_id));
	return true;
}

/* A runtime_id member the runtime put on obj is its own id, never the
 * registry's: overwrite it so only registry ids reach the browser. */
static void
rewrite_own_id(struct json_object *obj, const char *registry_id)
{
	if (json_object_object_get_ex(obj, "runtime_id", NULL))
		json_object_object_add(obj, "runtime_id",
		    json_object_new_string(registry_id));
}

bool
rewrite_worker(struct json_object *w, const char *registry_id)
{
	const char *wid;

	if (w == NULL || !json_object_is_type(w, json_type_object))
		return false;
	wid = wjson_get_string(w, "worker_id");
	if (wid == NULL || wid[0] == '\0' ||
	    wjson_get_string(w, "status") == NULL)
		return false;
	if (!rewrite_ref(rewrite_member(w, "worker_ref", json_type_object),
	    registry_id))
		return false;
	json_object_object_add(w, "runtime_id",
	    json_object_new_string(registry_id));
	return true;
}

struct json_object *
rewrite_worker_list(struct json_object *root, const char *registry_id)
{
	struct json_object *arr = rewrite_member(root, "workers",
	    json_type_array);

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (!rewrite_worker(json_object_array_get_idx(arr, i),
		    registry_id))
			return NULL;
	return json_object_get(arr);
}

struct json_object *
rewrite_worker_detail(struct json_object *root, const char *registry_id)
{
	struct json_object *w = rewrite_member(root, "worker",
	    json_type_object);

	if (!rewrite_worker(w, registry_id))
		return NULL;
	return json_object_get(w);
}

struct json_object *
rewrite_ack(struct json_object *root, const char *registry_id)
{
	struct json_object *ack = rewrite_member(root, "ack",
	    json_type_object);

	if (ack == NULL || wjson_get_string(ack, "status") == NULL)
		return NULL;
	if (!rewrite_ref(rewrite_member(ack, "worker_ref", json_type_object),
	    registry_id))
		return NULL;
	rewrite_own_id(ack, registry_id);
	return json_object_get(ack);
}

struct json_object *
rewrite_transcript(struct json_object *root, const char *registry_id)
{
	struct json_object *t = rewrite_member(root, "transcript",
	    json_type_object);
	struct json_object *items = rewrite_member(t, "items",
	    json_type_array);

	if (items == NULL)
		return NULL;
	if (!rewrite_ref(rewrite_member(t, "worker_ref", json_type_object),
	    registry_id))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *ref;

		if (!json_object_is_type(it, json_type_object))
			return NULL;
		if (json_object_object_get_ex(it, "worker_ref", &ref) &&
		    !rewrite_ref(ref, registry_id))
			return NULL;
		rewrite_own_id(it, registry_id);
	}
	rewrite_own_id(t, registry_id);
	return json_object_get(t);
}

/* A short [a-z0-9_] word: the only runtime-written strings copied into
 * a summary are enum-like values ("running", "fs_store") and key names,
 * so free text (which could name hosts or files) never gets through. */
static bool
rewrite_word(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n]; n++)
		if (n >= 64 || !((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return false;
	return n > 0;
}

/* The integer members of the runtime's limits whose names are words. */
static struct json_object *
rewrite_limits(struct json_object *limits)
{
	struct json_object *out = json_object_new_object();

	if (limits == NULL)
		return out;
	json_object_object_foreach(limits, key, val) {
		if (rewrite_word(key) && json_object_is_type(val, json_type_int))
			json_object_object_add(out, key, json_object_get(val));
	}
	return out;
}

struct json_object *
rewrite_runtime_summary(struct json_object *root, long *max_transcript,
    const char **display_name)
{
	static const char *const counts[] = { "worker_count",
	    "active_worker_count", "stopped_worker_count",
	    "cancelled_worker_count", "diagnostic_count" };
	struct json_object *rt = rewrite_member(root, "runtime",
	    json_type_object);
	struct json_object *out, *m, *limits;

	*max_transcript = -1;
	*display_name = NULL;
	if (rt == NULL || !rewrite_word(wjson_get_string(rt, "status")))
		return NULL;
	limits = rewrite_member(rt, "limits", json_type_object);
	m = rewrite_member(limits, "max_transcript_projection_items",
	    json_type_int);
	if (m != NULL)
		*max_transcript = (long)json_object_get_int64(m);
	*display_name = wjson_get_string(rt, "display_name");
	out = json_object_new_object();
	json_object_object_add(out, "status",
	    json_object_new_string(wjson_get_string(rt, "status")));
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if ((m = rewrite_member(rt, counts[i], json_type_int)) != NULL)
			json_object_object_add(out, counts[i],
			    json_object_get(m));
	if (rewrite_word(wjson_get_string(rt, "backend")))
		json_object_object_add(out, "backend", json_object_new_string(
		    wjson_get_string(rt, "backend")));
	json_object_object_add(out, "limits", rewrite_limits(limits));
	return out;
}
