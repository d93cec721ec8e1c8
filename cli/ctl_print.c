// SPDX-License-Identifier: MIT
/* vnetctl output, text and JSON from the same calls: see ctl_print.h. */
#include <inttypes.h>
#include <stdio.h>

#include "vnet/json.h"
#include "ctl_print.h"

static struct json_writer jw;
static bool as_json;

void po_init(bool json, bool pretty)
{
	as_json = json;
	if (json)
		jw_init(&jw, stdout, pretty);
}

bool po_json(void)
{
	return as_json;
}

void po_finish(void)
{
	if (as_json)
		jw_finish(&jw);
}

void po_section_open(const char *key)
{
	if (as_json) {
		jw_obj_open(&jw, NULL);
		jw_obj_open(&jw, key);
	}
}

void po_section_close(void)
{
	if (as_json) {
		jw_obj_close(&jw);
		jw_obj_close(&jw);
	}
}

void po_handle_open(const char *name)
{
	if (as_json)
		jw_obj_open(&jw, name);
	else
		printf("%s: ", name);
}

void po_handle_close(void)
{
	if (as_json)
		jw_obj_close(&jw);
	else
		printf("\n");
}

void po_nl(void)
{
	if (!as_json)
		printf("\n  ");
}

void po_str(const char *key, const char *fmt, const char *val)
{
	if (as_json)
		jw_str(&jw, key, val);
	else
		printf(fmt, val);
}

void po_uint(const char *key, const char *fmt, uint64_t val)
{
	if (as_json)
		jw_uint(&jw, key, val);
	else
		printf(fmt, val);
}

void po_bool(const char *key, const char *fmt, bool val)
{
	if (as_json)
		jw_bool(&jw, key, val);
	else
		printf(fmt, val ? "true" : "false");
}

void po_arr_open(const char *key, const char *text_label)
{
	if (as_json)
		jw_arr_open(&jw, key);
	else
		printf("%s", text_label);
}

void po_arr_str(const char *fmt, const char *val)
{
	if (as_json)
		jw_str(&jw, NULL, val);
	else
		printf(fmt, val);
}

void po_obj_open(void)
{
	if (as_json)
		jw_obj_open(&jw, NULL);
}

void po_obj_open_key(const char *key, const char *text_label)
{
	if (as_json)
		jw_obj_open(&jw, key);
	else
		printf("%s", text_label);
}

void po_obj_close(void)
{
	if (as_json)
		jw_obj_close(&jw);
}

void po_arr_close(void)
{
	if (as_json)
		jw_arr_close(&jw);
}
