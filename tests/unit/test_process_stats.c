/* Unit tests for process_stats.c: the figures of the process_* metrics. */
#include "config.h"

#include <sys/resource.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "process_stats.h"

/* A file opened shows in open_fds at once, and leaves it when closed. */
static void
test_open_fds_counts_this_process(void **state)
{
	struct process_stats before, during, after;
	int fd;

	(void)state;
	process_stats_read(&before);
	assert_true(before.open_fds >= 3);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	process_stats_read(&during);
	close(fd);
	process_stats_read(&after);
	assert_int_equal(during.open_fds, before.open_fds + 1);
	assert_int_equal(after.open_fds, before.open_fds);
}

/* Touching 8 MiB grows the resident size by about as much. */
static void
test_resident_memory_follows_use(void **state)
{
	struct process_stats before, after;
	const size_t len = 8u << 20;
	char *p;

	(void)state;
	process_stats_read(&before);
	assert_true(before.resident_bytes != UINT64_MAX);
	assert_true(before.virtual_bytes >= before.resident_bytes);
	p = malloc(len);
	assert_non_null(p);
	memset(p, 1, len);
	process_stats_read(&after);
	assert_true(after.resident_bytes >= before.resident_bytes + len / 2);
	free(p);
}

/* CPU time grows with work and max_fds is the soft limit. */
static void
test_cpu_and_limit(void **state)
{
	struct process_stats a, b;
	struct rlimit rl;
	volatile unsigned long x = 0;
	time_t give_up = time(NULL) + 10;

	(void)state;
	process_stats_read(&a);
	do {
		for (unsigned long i = 0; i < 1000000UL; i++)
			x += i & 3;
		process_stats_read(&b);
	} while (b.cpu_seconds <= a.cpu_seconds && time(NULL) < give_up);
	assert_true(b.cpu_seconds > a.cpu_seconds);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur == RLIM_INFINITY)
		assert_int_equal(b.max_fds, -1);
	else
		assert_int_equal(b.max_fds, (int64_t)rl.rlim_cur);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_fds_counts_this_process),
	    cmocka_unit_test(test_resident_memory_follows_use),
	    cmocka_unit_test(test_cpu_and_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
