/* SPDX-License-Identifier: MIT */
/* A tiny JSON reader for test data files (objects, arrays, strings, numbers). */
#ifndef VNET_JSON_READ_H
#define VNET_JSON_READ_H

#include <stddef.h>

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

struct jr_value {
	enum jr_type type;
	double num;
	char *str;			/* JR_STR */
	char **keys;			/* JR_OBJ */
	struct jr_value **items;	/* JR_ARR / JR_OBJ values */
	size_t count;
};

/* Returns NULL and prints why when the text is not valid JSON. */
struct jr_value *jr_parse_file(const char *path);
void jr_free(struct jr_value *v);
const struct jr_value *jr_get(const struct jr_value *obj, const char *key);
const char *jr_get_str(const struct jr_value *obj, const char *key);

#endif
