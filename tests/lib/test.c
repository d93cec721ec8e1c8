// SPDX-License-Identifier: MIT
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

int test_summary(void)
{
	return test_total_failed ? 1 : 0;
}
