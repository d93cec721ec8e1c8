// SPDX-License-Identifier: MIT
/* Logging: see include/vnet/log.h. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "vnet/log.h"

int vnet_log_level = VNET_LOG_WARN;
static const char *log_prog = "vnet";

void vnet_log_init(const char *progname, int level)
{
	const char *slash = progname ? strrchr(progname, '/') : NULL;

	if (progname)
		log_prog = slash ? slash + 1 : progname;
	vnet_log_level = level;
}

void vnet_vlog(int level, const char *fmt, va_list ap)
{
	if (level > vnet_log_level)
		return;
	fprintf(stderr, "%s: ", log_prog);
	vfprintf(stderr, fmt, ap);
}

void vnet_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnet_vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warnings are our info, its info our debug, its debug our trace */
	int ours = level == LIBBPF_WARN ? VNET_LOG_INFO :
		   level == LIBBPF_INFO ? VNET_LOG_DEBUG : VNET_LOG_TRACE;

	if (ours > vnet_log_level)
		return 0;
	vnet_vlog(ours, fmt, ap);
	return 0;
}

void vnet_log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
