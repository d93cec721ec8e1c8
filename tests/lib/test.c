// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test.h"

int test_case_failed;
int test_case_skipped;
int test_total_failed;

void test_report(const char *name)
{
	const char *res = test_case_failed ? "[FAIL]" :
			  test_case_skipped ? "[SKIP]" : "[ OK ]";

	if (test_case_failed)
		test_total_failed++;
	printf("TEST: %-60s %s\n", name, res);
	fflush(stdout);
}

void test_run_variants(const struct test_case *cases, unsigned int n, bool *variant,
		       const char *suffix)
{
	char name[128];

	for (int v = 0; v < 2; v++) {
		*variant = v;
		for (unsigned int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "%s%s", cases[i].name, v ? suffix : "");
			test_case_failed = test_case_skipped = 0;
			cases[i].fn();
			test_report(name);
		}
	}
	*variant = false;
}

int test_summary(void)
{
	return test_total_failed ? 1 : 0;
}

int test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

int test_memfd(size_t size)
{
	int fd = memfd_create("guest", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	return fd;
}
