// SPDX-License-Identifier: MIT
/* JSON writer: see include/vnet/json.h. */
#include "vnet/json.h"

void jw_init(struct json_writer *jw, FILE *out, bool pretty)
{
	jw->out = out;
	jw->pretty = pretty;
	jw->depth = 0;
	jw->need_comma[0] = false;
}

static void jw_indent(struct json_writer *jw)
{
	if (!jw->pretty)
		return;
	fputc('\n', jw->out);
	for (int i = 0; i < jw->depth; i++)
		fputs("    ", jw->out);
}

static void jw_string(struct json_writer *jw, const char *s)
{
	fputc('"', jw->out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(jw->out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(jw->out, "\\u%04x", ch);
		else
			fputc(ch, jw->out);
	}
	fputc('"', jw->out);
}

static void jw_key(struct json_writer *jw, const char *key)
{
	if (jw->need_comma[jw->depth])
		fputc(',', jw->out);
	jw->need_comma[jw->depth] = true;
	if (jw->depth)
		jw_indent(jw);
	if (key) {
		jw_string(jw, key);
		fputs(jw->pretty ? ": " : ":", jw->out);
	}
}

static void jw_open(struct json_writer *jw, const char *key, char ch)
{
	jw_key(jw, key);
	fputc(ch, jw->out);
	if (jw->depth < JW_MAX_DEPTH - 1)
		jw->depth++;
	jw->need_comma[jw->depth] = false;
}

static void jw_close(struct json_writer *jw, char ch)
{
	bool had_items = jw->need_comma[jw->depth];

	if (jw->depth)
		jw->depth--;
	if (had_items)
		jw_indent(jw);
	fputc(ch, jw->out);
}

void jw_obj_open(struct json_writer *jw, const char *key) { jw_open(jw, key, '{'); }
void jw_obj_close(struct json_writer *jw) { jw_close(jw, '}'); }
void jw_arr_open(struct json_writer *jw, const char *key) { jw_open(jw, key, '['); }
void jw_arr_close(struct json_writer *jw) { jw_close(jw, ']'); }

void jw_str(struct json_writer *jw, const char *key, const char *val)
{
	jw_key(jw, key);
	jw_string(jw, val);
}

void jw_uint(struct json_writer *jw, const char *key, uint64_t val)
{
	jw_key(jw, key);
	fprintf(jw->out, "%llu", (unsigned long long)val);
}

void jw_int(struct json_writer *jw, const char *key, int64_t val)
{
	jw_key(jw, key);
	fprintf(jw->out, "%lld", (long long)val);
}

void jw_bool(struct json_writer *jw, const char *key, bool val)
{
	jw_key(jw, key);
	fputs(val ? "true" : "false", jw->out);
}

void jw_null(struct json_writer *jw, const char *key)
{
	jw_key(jw, key);
	fputs("null", jw->out);
}

void jw_finish(struct json_writer *jw)
{
	fputc('\n', jw->out);
	fflush(jw->out);
}
