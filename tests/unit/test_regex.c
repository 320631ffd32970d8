/* Unit tests for regex.c: compile errors, hostile bodies and limits. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "regex.h"
#include "util.h"

/* Compile pattern or fail the test with PCRE2's reason. */
static struct regex *
compile(const char *pattern)
{
	struct regex *re;
	char err[256] = "";

	if ((re = regex_compile(pattern, err, sizeof(err))) == NULL)
		fail_msg("\"%s\": %s", pattern, err);
	return re;
}

/* Search subject (len bytes) with pattern; -1 fails the test. */
static int
search(const char *pattern, const char *subject, size_t len)
{
	struct regex *re = compile(pattern);
	char err[256] = "";
	int rc;

	rc = regex_search(re, subject, len, err, sizeof(err));
	regex_free(re);
	if (rc == -1)
		fail_msg("\"%s\" cut short: %s", pattern, err);
	return rc;
}

/* A compiled pattern keeps its text, which the probe's cache looks up. */
static void
test_pattern_kept(void **state)
{
	struct regex *re = compile("^ok: (\\d+)$");

	assert_string_equal(regex_pattern(re), "^ok: (\\d+)$");
	regex_free(re);
	regex_free(NULL);
}

/* A bad pattern is refused with PCRE2's reason and where it went wrong,
 * counted in bytes from the start. */
static void
test_compile_errors(void **state)
{
	static const struct {
		const char *pattern, *why;
	} cases[] = {
	    {"(", "missing closing parenthesis at offset 1"},
	    {"a)", "unmatched closing parenthesis at offset 1"},
	    {"[a", "missing terminating ] for character class at offset 2"},
	    {"*a", "quantifier does not follow a repeatable item at offset 0"},
	    {"a{2,1}", "numbers out of order in {} quantifier at offset 5"},
	    {"ok\\", "\\ at end of pattern at offset 3"},
	    {"\xff", "UTF-8 error: illegal byte (0xfe or 0xff) at offset 0"},
	    {"caf\xc3", "at offset 3"},
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(err, 0, sizeof(err));
		if (regex_compile(cases[i].pattern, err, sizeof(err)) != NULL)
			fail_msg("\"%s\" compiled", cases[i].pattern);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("\"%s\": \"%s\", want \"%s\"",
			    cases[i].pattern, err, cases[i].why);
	}
}

/* A compile error fits a small buffer, cut short and terminated. */
static void
test_compile_error_small_buffer(void **state)
{
	char err[16];

	memset(err, 'z', sizeof(err));
	assert_null(regex_compile("(", err, 8));
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'z');
}

/* Plain searches: a match anywhere in the body, or none. */
static void
test_search(void **state)
{
	static const char body[] = "<html><title>pulse: all good</title>";

	assert_int_equal(search("all good", body, strlen(body)), 1);
	assert_int_equal(search("^<html>", body, strlen(body)), 1);
	assert_int_equal(search("</html>$", body, strlen(body)), 0);
	assert_int_equal(search("ALL GOOD", body, strlen(body)), 0);
	assert_int_equal(search("(?i)ALL GOOD", body, strlen(body)), 1);
	assert_int_equal(search("x", "", 0), 0);
	assert_int_equal(search("^$", "", 0), 1);
}

/* The subject is len bytes, NULs included: text after a NUL is searched
 * and a NUL can itself be matched. */
static void
test_nul_bytes(void **state)
{
	static const char body[] = "head\0needle\0tail";
	size_t len = sizeof(body) - 1;

	assert_int_equal(search("needle", body, len), 1);
	assert_int_equal(search("tail$", body, len), 1);
	assert_int_equal(search("d\\x00n", body, len), 1);
	assert_int_equal(search("head$", body, len), 0);
	/* Only len bytes count: the same text cut before the needle. */
	assert_int_equal(search("needle", body, 4), 0);
}

/* A body that is not UTF-8 is searched, not refused: valid stretches can
 * match and the invalid bytes never do. */
static void
test_invalid_utf8_subject(void **state)
{
	static const char bad[] = "\xff\xfe"
	                          "abc\xc0\xaf"
	                          "caf\xc3\xa9\xed\xa0\x80";
	size_t len = sizeof(bad) - 1;

	assert_int_equal(search("abc", bad, len), 1);
	assert_int_equal(search("caf\xc3\xa9", bad, len), 1);
	assert_int_equal(search("caf.", bad, len), 1);
	assert_int_equal(search("^.", bad, len), 0);
	assert_int_equal(search("\\xff", bad, len), 0);
	assert_int_equal(search("c.\\x{e9}", "\xff", 1), 0);
}

/* A pattern that backtracks exponentially over a hostile body stops at
 * the match limit with a reason, in well under a second. */
static void
test_catastrophic_pattern(void **state)
{
	static const char *patterns[] = {"(a+)+$", "(?:a+)+$", "(a|aa)+$"};
	char subject[4096], err[256];
	struct regex *re;
	int64_t t0, took;
	size_t i;
	int rc;

	memset(subject, 'a', sizeof(subject));
	subject[sizeof(subject) - 1] = 'b';
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		re = compile(patterns[i]);
		err[0] = '\0';
		t0 = mono_now_us();
		rc = regex_search(re, subject, sizeof(subject), err,
		    sizeof(err));
		took = mono_now_us() - t0;
		regex_free(re);
		if (rc != -1)
			fail_msg("\"%s\" gave %d, want -1", patterns[i], rc);
		assert_true(err[0] != '\0');
		if (took > USEC_PER_SEC)
			fail_msg("\"%s\" ran %lld us", patterns[i],
			    (long long)took);
	}
}

/* A large body with a pattern that does not occur is a plain no. */
static void
test_large_subject(void **state)
{
	size_t len = 1 << 20;
	char *body = xmalloc(len);

	memset(body, 'a', len);
	assert_int_equal(search("b", body, len), 0);
	assert_int_equal(search("aaaa$", body, len), 1);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pattern_kept),
	    cmocka_unit_test(test_compile_errors),
	    cmocka_unit_test(test_compile_error_small_buffer),
	    cmocka_unit_test(test_search),
	    cmocka_unit_test(test_nul_bytes),
	    cmocka_unit_test(test_invalid_utf8_subject),
	    cmocka_unit_test(test_catastrophic_pattern),
	    cmocka_unit_test(test_large_subject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
