/* SPDX-License-Identifier: MIT */
/*
 * vnetctl's output: every value is printed by one call that serves text and
 * JSON (like iproute2's print_uint(PRINT_ANY, key, fmt, v)), so the two
 * forms cannot drift apart.
 */
#ifndef VNET_CLI_CTL_PRINT_H
#define VNET_CLI_CTL_PRINT_H

#include <stdbool.h>
#include <stdint.h>

void po_init(bool json, bool pretty);
void po_finish(void);
bool po_json(void);
void po_section_open(const char *key);	/* {"key": { ... */
void po_section_close(void);
void po_handle_open(const char *name);	/* text "name: ", JSON "name": { */
void po_handle_close(void);
void po_nl(void);			/* text: a new indented line */
void po_str(const char *key, const char *fmt, const char *val);
void po_uint(const char *key, const char *fmt, uint64_t val);
void po_bool(const char *key, const char *fmt, bool val);
void po_arr_open(const char *key, const char *text_label);
void po_arr_str(const char *fmt, const char *val);
void po_arr_close(void);
void po_obj_open(void);			/* JSON: an object in an array; text: nothing */
/* JSON "key": { ... } inside an object (close with po_obj_close); text: the label */
void po_obj_open_key(const char *key, const char *text_label);
void po_obj_close(void);

#endif
