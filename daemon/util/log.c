// SPDX-License-Identifier: MIT
/* Logging: see include/vnet/log.h. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "vnet/log.h"

int vnet_log_level = VNET_LOG_WARN;
static const char *log_prog = "vnet";

/*
 * The libraries' levels one step below ours: what they call a warning is
 * often an expected event for us (libxdp trying its dispatcher, failing and
 * falling back to a single program prints libbpf's "permission error ...
 * try raising 'ulimit -l'"), so it shows with -v, never on a normal run.
 * Their messages start with "libbpf: " / "libxdp: " themselves.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	vnet_vlog(level == LIBBPF_WARN ? VNET_LOG_INFO :
		  level == LIBBPF_INFO ? VNET_LOG_DEBUG : VNET_LOG_TRACE, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	vnet_vlog(level == LIBXDP_WARN ? VNET_LOG_INFO :
		  level == LIBXDP_INFO ? VNET_LOG_DEBUG : VNET_LOG_TRACE, fmt, ap);
	return 0;
}

void vnet_log_init(const char *progname, int level)
{
	const char *slash = progname ? strrchr(progname, '/') : NULL;

	if (progname)
		log_prog = slash ? slash + 1 : progname;
	vnet_log_level = level;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
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
