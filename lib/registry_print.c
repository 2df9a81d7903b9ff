/*
 * registry_print — the parsed registry as JSON for --check-config: every
 * key of the table (registry_keys.c) with its default filled in, in table
 * order. Tokens are never printed, only where they come from.
 */
#include "registry_keys.h"

#include <stdint.h>
#include <stdio.h>

void
registry_print_log_format(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out)
{
	(void)rt;
	json_object_object_add(out, "log_format",
	    json_object_new_string(reg->log_json ? "json" : "text"));
}

void
registry_print_origins(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out)
{
	struct json_object *arr = json_object_new_array();

	(void)rt;
	for (size_t i = 0; i < reg->allowed_origin_count; i++)
		json_object_array_add(arr,
		    json_object_new_string(reg->allowed_origins[i]));
	json_object_object_add(out, "allowed_origins", arr);
}

void
registry_print_runtimes(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out)
{
	struct json_object *arr = json_object_new_array(), *o;

	(void)rt;
	for (size_t i = 0; i < reg->runtime_count; i++) {
		o = json_object_new_object();
		registry_keys_print(reg, &reg->runtimes[i],
		    REGISTRY_SECT_RUNTIME, o);
		json_object_array_add(arr, o);
	}
	json_object_object_add(out, "runtimes", arr);
}

/* base_url and, derived from it, the transport. */
void
registry_print_base_url(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out)
{
	(void)reg;
	json_object_object_add(out, "base_url",
	    json_object_new_string(rt->base_url));
	json_object_object_add(out, "transport", json_object_new_string(
	    registry_transport_name(rt->transport)));
}

/* token, token_file and token_env as one "auth" object: the kind and
 * the file or variable, never the token. */
void
registry_print_auth(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out)
{
	const struct registry_secret *sec = &reg->secrets->v[rt->index];
	static const char *const auth_names[] = { "none", "token (inline, "
		"redacted)", "token_file", "token_env" };
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "kind",
	    json_object_new_string(auth_names[sec->kind]));
	if (sec->ref != NULL)
		json_object_object_add(a, sec->kind == REGISTRY_AUTH_TOKEN_ENV ?
		    "variable" : "file", json_object_new_string(sec->ref));
	json_object_object_add(out, "auth", a);
}

/* Only https runtimes have tls settings. */
void
registry_print_tls(const struct registry *reg,
    const struct registry_runtime *rt, struct json_object *out)
{
	struct json_object *t;

	if (rt->transport != REGISTRY_TRANSPORT_HTTPS)
		return;
	t = json_object_new_object();
	registry_keys_print(reg, rt, REGISTRY_SECT_TLS, t);
	json_object_object_add(out, "tls", t);
}

void
registry_print(const struct registry *reg, FILE *out)
{
	struct json_object *root = json_object_new_object();

	json_object_object_add(root, "config", json_object_new_string(reg->path));
	registry_keys_print(reg, NULL, REGISTRY_SECT_TOP, root);
	fprintf(out, "%s\n", json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}
