/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_yaml: checked reads from a libyaml document for the schema in cfg.c.
 * libyaml resolves no types (every scalar is a string) and keeps repeated
 * keys, so numbers, modes and duplicates are judged here, and each problem
 * becomes one "FILE:LINE:COL: message" line at the node it is about.
 */
#include "cfg_priv.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *node_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static void __attribute__((format(printf, 3, 0)))
cfg_verror(struct cfg_parser *p, const yaml_mark_t *mark, const char *fmt,
	   va_list ap)
{
	char msg[512];

	p->n_errors++;
	if (p->err == NULL)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Messages quote values from the file: a newline in one must not
	 * split the report, which is one line per problem. */
	for (char *c = msg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	/* libyaml counts from 0, editors from 1. */
	if (mark != NULL)
		fprintf(p->err, "%s:%zu:%zu: %s\n", p->name, mark->line + 1,
			mark->column + 1, msg);
	else
		fprintf(p->err, "%s: %s\n", p->name, msg);
}

void cfg_error(struct cfg_parser *p, const yaml_node_t *node,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(p, node != NULL ? &node->start_mark : NULL, fmt, ap);
	va_end(ap);
}

void cfg_error_at(struct cfg_parser *p, const yaml_mark_t *mark,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(p, mark, fmt, ap);
	va_end(ap);
}

const char *cfg_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a single value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}

bool cfg_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(node_text(n), nulls[i]) == 0)
			return true;
	return false;
}

bool cfg_want(struct cfg_parser *p, const yaml_node_t *n,
	      yaml_node_type_t type, const char *ctx, const char *key,
	      const char *shape)
{
	if (n->type == type)
		return true;
	cfg_error(p, n, "%s%s must be %s, not %s", ctx, key, shape,
		  cfg_node_kind(n));
	return false;
}

static bool word_in(const char *const *words, const char *w)
{
	for (; *words != NULL; words++)
		if (strcmp(*words, w) == 0)
			return true;
	return false;
}

static void words_join(const char *const *words, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; *words != NULL && len < size; words++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					len > 0 ? ", " : "", *words);
}

/* libyaml keeps both copies of a repeated key and cfg_map_get reads the
 * first, so the second must not pass silently. */
void cfg_map_check(struct cfg_parser *p, const yaml_node_t *map,
		   const char *ctx, const char *const *allowed)
{
	yaml_node_pair_t *pair, *first;
	char list[256];

	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = cfg_node(p, pair->key);

		if (key->type != YAML_SCALAR_NODE) {
			cfg_error(p, key, "%skeys must be plain words, not %s",
				  ctx, cfg_node_kind(key));
			continue;
		}
		if (!word_in(allowed, node_text(key))) {
			words_join(allowed, list, sizeof(list));
			cfg_error(p, key, "%sunknown key \"%s\" (allowed: %s)",
				  ctx, node_text(key), list);
			continue;
		}
		for (first = map->data.mapping.pairs.start; first < pair;
		     first++) {
			yaml_node_t *k = cfg_node(p, first->key);

			if (k->type == YAML_SCALAR_NODE &&
			    strcmp(node_text(k), node_text(key)) == 0) {
				cfg_error(p, key,
					  "%skey \"%s\" is given twice (first on line %zu)",
					  ctx, node_text(key),
					  k->start_mark.line + 1);
				break;
			}
		}
	}
}

yaml_node_t *cfg_map_get(const struct cfg_parser *p, const yaml_node_t *map,
			 const char *key)
{
	yaml_node_pair_t *pair;

	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = cfg_node(p, pair->key);

		if (k->type == YAML_SCALAR_NODE &&
		    strcmp(node_text(k), key) == 0)
			return cfg_node(p, pair->value);
	}
	return NULL;
}

yaml_node_t *cfg_map_require(struct cfg_parser *p, const yaml_node_t *map,
			     const char *ctx, const char *key)
{
	yaml_node_t *n = cfg_map_get(p, map, key);

	if (n == NULL)
		cfg_error(p, map, "%smissing required key \"%s\"", ctx, key);
	return n;
}

const char *cfg_get_scalar(struct cfg_parser *p, const yaml_node_t *n,
			   const char *ctx, const char *key)
{
	if (!cfg_want(p, n, YAML_SCALAR_NODE, ctx, key, "a single value"))
		return NULL;
	if (cfg_is_null(n))
		return "";
	/* A double-quoted "\0" would cut every C string it is copied to. */
	if (strlen(node_text(n)) != n->data.scalar.length) {
		cfg_error(p, n, "%s%s contains a NUL character", ctx, key);
		return NULL;
	}
	return node_text(n);
}

bool cfg_get_str(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		 const char *key, char *buf, size_t size)
{
	const char *v = cfg_get_scalar(p, n, ctx, key);

	if (v == NULL)
		return false;
	if (v[0] == '\0') {
		cfg_error(p, n, "%s%s is empty", ctx, key);
		return false;
	}
	if (strlen(v) >= size) {
		cfg_error(p, n, "%s%s is too long (%zu characters, max %zu)",
			  ctx, key, strlen(v), size - 1);
		return false;
	}
	memcpy(buf, v, strlen(v) + 1);
	return true;
}

/* Names end up in vhost ids, telemetry and control replies: keep them to
 * characters that need quoting nowhere. */
bool cfg_get_name(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, char buf[CFG_NAME_MAX])
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	char tmp[CFG_NAME_MAX];

	if (!cfg_get_str(p, n, ctx, key, tmp, sizeof(tmp)))
		return false;
	if (strspn(tmp, ok) != strlen(tmp)) {
		cfg_error(p, n, "%s%s \"%s\" may only use letters, digits, '.', '_' and '-'",
			  ctx, key, tmp);
		return false;
	}
	memcpy(buf, tmp, sizeof(tmp));
	return true;
}

bool cfg_get_path(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, char buf[CFG_PATH_MAX])
{
	char tmp[CFG_PATH_MAX];

	if (!cfg_get_str(p, n, ctx, key, tmp, sizeof(tmp)))
		return false;
	if (tmp[0] != '/') {
		cfg_error(p, n, "%s%s \"%s\" must be an absolute path (start with /)",
			  ctx, key, tmp);
		return false;
	}
	memcpy(buf, tmp, sizeof(tmp));
	return true;
}

static bool all_digits(const char *s, const char *digits)
{
	return s[0] != '\0' && strspn(s, digits) == strlen(s);
}

/* Leading zeros are refused: YAML 1.1 reads "010" as octal 8 and we would
 * read 10, so the file would mean different things to different tools. */
bool cfg_get_uint(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, unsigned long long min,
		  unsigned long long max, unsigned long long *out)
{
	const char *v = cfg_get_scalar(p, n, ctx, key);
	unsigned long long x = 0;
	bool overflow = false;
	const char *c;

	if (v == NULL)
		return false;
	if (v[0] == '\0') {
		cfg_error(p, n, "%s%s is empty (want a number)", ctx, key);
		return false;
	}
	if (v[0] == '-' && all_digits(v + 1, "0123456789")) {
		cfg_error(p, n, "%s%s %s must not be negative", ctx, key, v);
		return false;
	}
	if (!all_digits(v, "0123456789")) {
		cfg_error(p, n, "%s%s \"%s\" is not a whole number", ctx, key, v);
		return false;
	}
	if (v[0] == '0' && v[1] != '\0') {
		cfg_error(p, n, "%s%s \"%s\" has a leading zero (write it in decimal without one)",
			  ctx, key, v);
		return false;
	}
	for (c = v; *c != '\0' && !overflow; c++) {
		overflow = x > (ULLONG_MAX - (unsigned int)(*c - '0')) / 10;
		x = x * 10 + (unsigned int)(*c - '0');
	}
	if (overflow || x > max) {
		cfg_error(p, n, "%s%s %s is too large (max %llu)", ctx, key, v,
			  max);
		return false;
	}
	if (x < min) {
		cfg_error(p, n, "%s%s %s is too small (min %llu)", ctx, key, v,
			  min);
		return false;
	}
	*out = x;
	return true;
}

/* The digits are always octal, as for chmod(1): as a YAML integer,
 * "mode: 660" would be 0660 to some readers and 0o1224 to others. */
bool cfg_get_mode(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		  const char *key, uint32_t *out)
{
	const char *v = cfg_get_scalar(p, n, ctx, key);
	const char *digits;

	if (v == NULL)
		return false;
	digits = strncmp(v, "0o", 2) == 0 ? v + 2 : v;
	if (!all_digits(digits, "01234567") ||
	    strtoul(digits, NULL, 8) > 0777) {
		cfg_error(p, n, "%s%s \"%s\" is not an octal permission from 0000 to 0777 (want e.g. \"0660\")",
			  ctx, key, v);
		return false;
	}
	*out = (uint32_t)strtoul(digits, NULL, 8);
	return true;
}

/* One of two words: *second says which; false (reported) for anything
 * else. */
bool cfg_get_either(struct cfg_parser *p, const yaml_node_t *n,
		    const char *ctx, const char *key, const char *first,
		    const char *other, bool *second)
{
	const char *s = cfg_get_scalar(p, n, ctx, key);

	if (s == NULL)
		return false;
	if (strcmp(s, first) == 0 || strcmp(s, other) == 0) {
		*second = strcmp(s, other) == 0;
		return true;
	}
	cfg_error(p, n, "%s%s \"%s\" is not %s or %s", ctx, key, s, first,
		  other);
	return false;
}

/* true or false, nothing else (YAML's yes/on are not taken: too easy
 * to misread). */
void cfg_get_bool(struct cfg_parser *p, const yaml_node_t *n,
		  const char *ctx, const char *key, bool *out)
{
	bool f;

	if (cfg_get_either(p, n, ctx, key, "true", "false", &f))
		*out = !f;
}

bool cfg_get_id(struct cfg_parser *p, const yaml_node_t *n, const char *ctx,
		const char *key, bool group, int64_t *out)
{
	const char *s = cfg_get_scalar(p, n, ctx, key);
	char buf[4096];
	char *end;
	unsigned long v;

	if (s == NULL)
		return false;
	if (s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (*end == '\0' && errno == 0 && v < UINT32_MAX) {
			*out = (int64_t)v;
			return true;
		}
	} else if (group) {
		struct group gr, *g = NULL;

		if (getgrnam_r(s, &gr, buf, sizeof(buf), &g) == 0 && g != NULL) {
			*out = g->gr_gid;
			return true;
		}
	} else {
		struct passwd pw, *u = NULL;

		if (getpwnam_r(s, &pw, buf, sizeof(buf), &u) == 0 && u != NULL) {
			*out = u->pw_uid;
			return true;
		}
	}
	cfg_error(p, n, "%s%s \"%s\" is no %s of this host (want a name or a number)",
		  ctx, key, s, group ? "group" : "user");
	return false;
}
