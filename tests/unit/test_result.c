/* Unit tests for result.c: the result model and the reason names. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "result.h"

/* A fresh result claims nothing: no reason, no message, no timings. */
static void
test_result_init(void **state)
{
	struct result r;

	memset(&r, 0xa5, sizeof(r));
	result_init(&r);
	assert_int_equal(r.reason, REASON_NONE);
	assert_string_equal(r.error, "");
	assert_string_equal(r.address, "");
	assert_int_equal(r.dns_us, -1);
	assert_int_equal(r.connect_us, -1);
}

/* result_fail marks failure, keeps the reason and formats the message. */
static void
test_result_fail_formats(void **state)
{
	struct result r;

	result_init(&r);
	r.success = true;
	result_fail(&r, REASON_REFUSED, "%s:%d: connection refused",
	    "127.0.0.1", 80);
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_REFUSED);
	assert_string_equal(r.error, "127.0.0.1:80: connection refused");
}

/* A message longer than the buffer is cut, terminated, and keeps its head. */
static void
test_result_fail_truncates(void **state)
{
	char longmsg[RESULT_ERROR_MAX * 4];
	struct result r;

	memset(longmsg, 'e', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	longmsg[0] = 'H';
	result_init(&r);
	result_fail(&r, REASON_INTERNAL, "%s", longmsg);
	assert_false(r.success);
	assert_int_equal(r.reason, REASON_INTERNAL);
	assert_int_equal(strlen(r.error), RESULT_ERROR_MAX - 1);
	assert_int_equal(r.error[0], 'H');
	assert_memory_equal(r.error, longmsg, RESULT_ERROR_MAX - 1);
	/* The field after error is untouched. */
	assert_string_equal(r.address, "");
}

/* Every reason has a distinct name that maps back to the same reason. */
static void
test_reason_round_trip(void **state)
{
	int i, j;

	for (i = REASON_NONE + 1; i < REASON_MAX; i++) {
		const char *name = reason_name((enum reason)i);

		if (name == NULL || name[0] == '\0')
			fail_msg("reason %d has no name", i);
		if (reason_from_name(name) != (enum reason)i)
			fail_msg("\"%s\" maps back to %d, not %d", name,
			    (int)reason_from_name(name), i);
		for (j = REASON_NONE + 1; j < i; j++)
			if (strcmp(name, reason_name((enum reason)j)) == 0)
				fail_msg("reasons %d and %d share \"%s\"", j, i,
				    name);
	}
}

/* The names the JSON document promises are spelled as documented. */
static void
test_reason_documented_names(void **state)
{
	assert_string_equal(reason_name(REASON_TIMEOUT), "timeout");
	assert_string_equal(reason_name(REASON_REFUSED), "refused");
	assert_string_equal(reason_name(REASON_UNREACHABLE), "unreachable");
	assert_string_equal(reason_name(REASON_DNS), "dns");
	assert_string_equal(reason_name(REASON_CRASH), "crash");
	assert_string_equal(reason_name(REASON_DEADLINE), "deadline");
	assert_string_equal(reason_name(REASON_CANCELLED), "cancelled");
	assert_string_equal(reason_name(REASON_PERMISSION), "permission");
	assert_string_equal(reason_name(REASON_INTERNAL), "internal");
}

/* Names that are not reasons map to REASON_MAX. */
static void
test_reason_unknown_name(void **state)
{
	assert_int_equal(reason_from_name("bogus"), REASON_MAX);
	assert_int_equal(reason_from_name(""), REASON_MAX);
	assert_int_equal(reason_from_name("TIMEOUT"), REASON_MAX);
	assert_int_equal(reason_from_name("timeout "), REASON_MAX);
	assert_int_equal(reason_from_name("time"), REASON_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_result_init),
	    cmocka_unit_test(test_result_fail_formats),
	    cmocka_unit_test(test_result_fail_truncates),
	    cmocka_unit_test(test_reason_round_trip),
	    cmocka_unit_test(test_reason_documented_names),
	    cmocka_unit_test(test_reason_unknown_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
