/* SPDX-License-Identifier: MIT */
/*
 * A small JSON writer for -j output. Like iproute2's print_* helpers the
 * same call sites serve text and JSON: programs build their output once.
 */
#ifndef VNET_JSON_H
#define VNET_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

struct json_writer {
	FILE *out;
	bool pretty;
	int depth;
	bool need_comma[JW_MAX_DEPTH];
};

void jw_init(struct json_writer *jw, FILE *out, bool pretty);
/* key is NULL inside arrays and for the top level */
void jw_obj_open(struct json_writer *jw, const char *key);
void jw_obj_close(struct json_writer *jw);
void jw_arr_open(struct json_writer *jw, const char *key);
void jw_arr_close(struct json_writer *jw);
void jw_str(struct json_writer *jw, const char *key, const char *val);
void jw_uint(struct json_writer *jw, const char *key, uint64_t val);
void jw_int(struct json_writer *jw, const char *key, int64_t val);
void jw_bool(struct json_writer *jw, const char *key, bool val);
void jw_null(struct json_writer *jw, const char *key);
/* ends the document with a newline */
void jw_finish(struct json_writer *jw);

#endif
