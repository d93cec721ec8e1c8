// SPDX-License-Identifier: MIT
/* A tiny recursive-descent JSON reader, enough for tests/data files. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"

struct jr_parser {
	const char *s;
	const char *err;
};

static void skip_ws(struct jr_parser *p)
{
	while (isspace((unsigned char)*p->s))
		p->s++;
}

static struct jr_value *jr_new(enum jr_type t)
{
	struct jr_value *v = calloc(1, sizeof(*v));

	if (v)
		v->type = t;
	return v;
}

static char *parse_string(struct jr_parser *p)
{
	size_t cap = 16, n = 0;
	char *out = malloc(cap);

	if (!out || *p->s != '"')
		goto fail;
	p->s++;
	while (*p->s && *p->s != '"') {
		char ch = *p->s++;

		if (ch == '\\') {
			ch = *p->s++;
			if (ch == 'n') ch = '\n';
			else if (ch == 't') ch = '\t';
			else if (ch != '"' && ch != '\\' && ch != '/')
				goto fail;	/* \uXXXX not needed for test data */
		}
		if (n + 2 > cap) {
			char *bigger = realloc(out, cap *= 2);

			if (!bigger)
				goto fail;
			out = bigger;
		}
		out[n++] = ch;
	}
	if (*p->s != '"')
		goto fail;
	p->s++;
	out[n] = 0;
	return out;
fail:
	p->err = "bad string";
	free(out);
	return NULL;
}

static struct jr_value *parse_value(struct jr_parser *p, int depth);

static int push(struct jr_value *c, struct jr_value *item, char *key)
{
	struct jr_value **items = realloc(c->items, (c->count + 1) * sizeof(*items));
	char **keys;

	if (!items)
		return -1;
	c->items = items;
	if (c->type == JR_OBJ) {
		keys = realloc(c->keys, (c->count + 1) * sizeof(*keys));
		if (!keys)
			return -1;
		c->keys = keys;
		c->keys[c->count] = key;
	}
	c->items[c->count++] = item;
	return 0;
}

static struct jr_value *parse_container(struct jr_parser *p, int depth, char close)
{
	struct jr_value *c = jr_new(close == '}' ? JR_OBJ : JR_ARR);

	p->s++;
	skip_ws(p);
	if (*p->s == close) {
		p->s++;
		return c;
	}
	for (;;) {
		char *key = NULL;
		struct jr_value *item;

		skip_ws(p);
		if (close == '}') {
			key = parse_string(p);
			skip_ws(p);
			if (!key || *p->s++ != ':') {
				free(key);
				goto fail;
			}
		}
		item = parse_value(p, depth + 1);
		if (!item || push(c, item, key)) {
			free(key);
			jr_free(item);
			goto fail;
		}
		skip_ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s++ == close)
			return c;
		goto fail;
	}
fail:
	if (!p->err)
		p->err = "bad container";
	jr_free(c);
	return NULL;
}

static struct jr_value *parse_value(struct jr_parser *p, int depth)
{
	struct jr_value *v;
	char *end;

	skip_ws(p);
	if (depth > 64) {
		p->err = "too deep";
		return NULL;
	}
	switch (*p->s) {
	case '{':
		return parse_container(p, depth, '}');
	case '[':
		return parse_container(p, depth, ']');
	case '"':
		v = jr_new(JR_STR);
		v->str = parse_string(p);
		if (!v->str) {
			free(v);
			return NULL;
		}
		return v;
	}
	if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "false", 5)) {
		v = jr_new(JR_BOOL);
		v->num = *p->s == 't';
		p->s += *p->s == 't' ? 4 : 5;
		return v;
	}
	if (!strncmp(p->s, "null", 4)) {
		p->s += 4;
		return jr_new(JR_NULL);
	}
	v = jr_new(JR_NUM);
	v->num = strtod(p->s, &end);
	if (end == p->s) {
		p->err = "unexpected character";
		free(v);
		return NULL;
	}
	p->s = end;
	return v;
}

struct jr_value *jr_parse_file(const char *path)
{
	struct jr_parser p = { 0 };
	struct jr_value *v = NULL;
	FILE *f = fopen(path, "r");
	char *text = NULL;
	long size;

	if (!f) {
		perror(path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	text = calloc(1, (size_t)size + 1);
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size)
		goto out;
	p.s = text;
	v = parse_value(&p, 0);
	skip_ws(&p);
	if (v && *p.s) {
		p.err = "trailing garbage";
		jr_free(v);
		v = NULL;
	}
	if (!v)
		fprintf(stderr, "%s: invalid JSON near offset %ld: %s\n", path,
			(long)(p.s - text), p.err ? p.err : "?");
out:
	free(text);
	fclose(f);
	return v;
}

void jr_free(struct jr_value *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->count; i++) {
		jr_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

const struct jr_value *jr_get(const struct jr_value *obj, const char *key)
{
	if (!obj || obj->type != JR_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->count; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

const char *jr_get_str(const struct jr_value *obj, const char *key)
{
	const struct jr_value *v = jr_get(obj, key);

	return v && v->type == JR_STR ? v->str : NULL;
}
