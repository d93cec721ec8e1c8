/* SPDX-License-Identifier: MIT */
/*
 * Minimal unit-test harness. Every case prints one kselftest-style line that
 * scripts/run-tests.sh counts:
 *     TEST: name                                   [ OK ] / [FAIL] / [SKIP]
 *
 *   static void test_foo(void) { EXPECT(x == 1, "x is %d", x); }
 *   int main(void) { RUN(test_foo); return test_summary(); }
 */
#ifndef VNET_TEST_H
#define VNET_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

extern int test_case_failed;	/* the running case has failed */
extern int test_case_skipped;
extern int test_total_failed;

void test_report(const char *name);
int test_summary(void);

/* Open fds of this process (leak checks). */
int test_count_fds(void);
/* A memfd of 'size' bytes (guest memory), or -1. */
int test_memfd(size_t size);

#define RUN(fn)	do {						\
		test_case_failed = test_case_skipped = 0;		\
		fn();							\
		test_report(#fn);					\
	} while (0)

/*
 * Cases run once per variant (a ring layout): every case with *variant
 * false, then all again with it true, named NAME + suffix.
 *   static const struct test_case cases[] = { TEST_CASE(test_a), ... };
 *   test_run_variants(cases, N, &packed, "_packed");
 */
struct test_case {
	void (*fn)(void);
	const char *name;
};
#define TEST_CASE(fn)	{ fn, #fn }
void test_run_variants(const struct test_case *cases, unsigned int n, bool *variant,
		       const char *suffix);

/* Records a failure of the current case (bounded output), keeps going. */
#define EXPECT(cond, ...) do {						\
		if (!(cond)) {						\
			if (test_case_failed++ < 10) {			\
				printf("  %s:%d: %s: ", __FILE__,	\
				       __LINE__, #cond);		\
				printf(__VA_ARGS__);			\
				printf("\n");				\
			}						\
		}							\
	} while (0)

#define SKIP(...) do {							\
		printf("  skip: ");					\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		test_case_skipped = 1;					\
		return;							\
	} while (0)

#endif
