/* SPDX-License-Identifier: MIT */
/*
 * Logging for every vnet program: printf-checked pr_warn/pr_info/pr_debug.
 * Messages go to stderr prefixed with the program name; the level is raised
 * with -v. vnet_log_init() also routes libbpf's and libxdp's output here,
 * one level lower (their warnings with -v, info with -vv, debug with -vvv),
 * so a normal run stays quiet. Programs that never call it (the tests) keep
 * the libraries' own printers.
 */
#ifndef VNET_LOG_H
#define VNET_LOG_H

#include <stdarg.h>

enum vnet_log_level {
	VNET_LOG_WARN = 0,	/* default: problems only */
	VNET_LOG_INFO = 1,	/* -v */
	VNET_LOG_DEBUG = 2,	/* -vv */
	VNET_LOG_TRACE = 3,	/* -vvv: libbpf debug output too */
};

extern int vnet_log_level;

void vnet_log_init(const char *progname, int level);
void vnet_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vnet_vlog(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define pr_warn(...)  vnet_log(VNET_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  vnet_log(VNET_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) vnet_log(VNET_LOG_DEBUG, __VA_ARGS__)

#endif
