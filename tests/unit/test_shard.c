/* Unit tests for shard.c: --shard specs, the pinned hash, the partition. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "shard.h"
#include "target.h"

struct spec_case {
	const char *spec;
	const char *host; /* for auto/N */
	unsigned index, count;
};

static void
test_parse_good(void **state)
{
	static const struct spec_case cases[] = {
	    {"1/1", NULL, 1, 1},
	    {"3/7", NULL, 3, 7},
	    {"7/7", NULL, 7, 7},
	    {"1/4096", NULL, 1, 4096},
	    {"4096/4096", NULL, 4096, 4096},
	    {"auto/3", "pulse-0", 1, 3},
	    {"auto/3", "pulse-2", 3, 3},
	    {"auto/16", "my-pulse-10", 11, 16},
	    {"auto/3", "pulse-1.pulse.monitoring.svc.cluster.local", 2, 3},
	    {"auto/1", "x-0", 1, 1},
	};
	struct shard s;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0, sizeof(s));
		err[0] = '\0';
		if (shard_parse_host(cases[i].spec, cases[i].host, &s, err,
		        sizeof(err)) != 0)
			fail_msg("%s (host %s) refused: %s", cases[i].spec,
			    cases[i].host ? cases[i].host : "-", err);
		if (s.index != cases[i].index || s.count != cases[i].count)
			fail_msg("%s (host %s): got %u/%u, want %u/%u",
			    cases[i].spec, cases[i].host ? cases[i].host : "-",
			    s.index, s.count, cases[i].index, cases[i].count);
	}
}

/* Every bad spec is refused with a reason that names the problem. */
static void
test_parse_bad(void **state)
{
	static const struct {
		const char *spec, *host, *says;
	} cases[] = {
	    {"", NULL, "is not K/N"},
	    {"3", NULL, "is not K/N"},
	    {"auto", "pulse-0", "is not K/N"},
	    {"0/3", NULL, "shard K must be a number 1..3"},
	    {"4/3", NULL, "shard K must be a number 1..3"},
	    {"-1/3", NULL, "shard K"},
	    {"+1/3", NULL, "shard K"},
	    {" 1/3", NULL, "shard K"},
	    {"a/3", NULL, "shard K"},
	    {"1.0/3", NULL, "shard K"},
	    {"/3", NULL, "shard K"},
	    {"1/0", NULL, "count N must be a number 1..4096"},
	    {"1/4097", NULL, "count N must be a number 1..4096"},
	    {"1/", NULL, "count N"},
	    {"1/+3", NULL, "count N"},
	    {"1/3 ", NULL, "count N"},
	    {"1/3/5", NULL, "count N"},
	    {"1/99999999999999999999", NULL, "count N"},
	    {"auto/", "pulse-0", "count N"},
	    {"auto/0", "pulse-0", "count N"},
	    {"auto/3", "pulse", "does not end in -ORDINAL"},
	    {"auto/3", "pulse-", "does not end in -ORDINAL"},
	    {"auto/3", "pulse-x", "does not end in -ORDINAL"},
	    {"auto/3", "pulse-2x", "does not end in -ORDINAL"},
	    {"auto/3", "-2", "does not end in -ORDINAL"},
	    {"auto/3", "2", "does not end in -ORDINAL"},
	    {"auto/3", "", "does not end in -ORDINAL"},
	    {"auto/3", NULL, "does not end in -ORDINAL"},
	    {"auto/3", "pulse.2", "does not end in -ORDINAL"},
	    {"auto/3", "pulse-3",
	        "has ordinal 3, but 3 shards take ordinals "
	        "0..2"},
	    {"auto/3", "pulse-99999999999999999999", "-ORDINAL"},
	};
	struct shard s;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s.index = 77;
		s.count = 88;
		err[0] = '\0';
		if (shard_parse_host(cases[i].spec, cases[i].host, &s, err,
		        sizeof(err)) != -1)
			fail_msg("'%s' accepted as %u/%u", cases[i].spec,
			    s.index, s.count);
		if (strstr(err, cases[i].says) == NULL)
			fail_msg("'%s': reason '%s' lacks '%s'", cases[i].spec,
			    err, cases[i].says);
		if (s.index != 77 || s.count != 88)
			fail_msg("'%s': refused, yet the shard was changed",
			    cases[i].spec);
	}
}

/*
 * The hash is part of the interface: instances of one release agree on
 * it, and a change would move targets.  These values were computed
 * outside pulse from the definition in pulse(8).
 */
static void
test_hash_pinned(void **state)
{
	static const struct {
		const char *key;
		uint64_t h;
	} cases[] = {
	    {"", 0xefd01f60ba992926ULL},
	    {"a", 0x82a2a958a9bece5bULL},
	    {"tcp://127.0.0.1:80", 0x71bd0d5b2b2857dfULL},
	    {"tcp://[::1]:22", 0xa98dc1cf92a15927ULL},
	    {"icmp://192.0.2.1 count=0 interval=100ms size=56 ttl=0",
	        0x96122aa6f1d3df3cULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(shard_hash(cases[i].key, strlen(cases[i].key)),
		    cases[i].h);
}

static void
parse(const char *line, struct target *t)
{
	char err[256];

	if (target_parse_line(line, strlen(line), t, err, sizeof(err)) != 1)
		fail_msg("'%s' does not parse: %s", line, err);
}

/* The shard of a target, 1..n, found by asking each shard. */
static unsigned
shard_of(const struct target *t, unsigned n)
{
	struct shard s = {0, n};
	unsigned found = 0;

	for (s.index = 1; s.index <= n; s.index++)
		if (shard_keeps(&s, t)) {
			if (found != 0)
				fail_msg("%s kept by shards %u and %u of %u",
				    t->spec, found, s.index, n);
			found = s.index;
		}
	if (found == 0)
		fail_msg("%s kept by no shard of %u", t->spec, n);
	return found;
}

/*
 * Targets land where their key's hash says, whatever their name, labels
 * or timeout; a key that changes what is sent is another target.
 */
static void
test_keeps_pinned(void **state)
{
	static const struct {
		const char *line;
		const char *key;
		unsigned in3, in7;
	} cases[] = {
	    {"127.0.0.1:80", "tcp://127.0.0.1:80", 2, 4},
	    {"tcp://127.0.0.1:80 name=web timeout=2s label.tier=db",
	        "tcp://127.0.0.1:80", 2, 4},
	    {"[::1]:22 name=ssh", "tcp://[::1]:22", 3, 4},
	    {"icmp://192.0.2.1",
	        "icmp://192.0.2.1 count=0 interval=100ms size=56 ttl=0", 2, 7},
	};
	struct target t;
	char key[TARGET_KEY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(cases[i].line, &t);
		target_key(&t, key, sizeof(key));
		assert_string_equal(key, cases[i].key);
		assert_int_equal(shard_of(&t, 3), cases[i].in3);
		assert_int_equal(shard_of(&t, 7), cases[i].in7);
		assert_int_equal(shard_of(&t, 1), 1);
		target_clear(&t);
	}
}

/* Many targets: one shard each, for every N, and no shard left idle. */
static void
test_partition(void **state)
{
	struct target_list list;
	char line[128];
	size_t i, per[16];
	unsigned n, k;

	(void)state;
	memset(&list, 0, sizeof(list));
	for (i = 1; i <= 300; i++) {
		snprintf(line, sizeof(line), "127.0.0.1:%zu", i);
		assert_int_equal(target_list_add(&list, "t", (unsigned)i, line,
		                     strlen(line)),
		    1);
	}
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "icmp://127.0.%zu.%zu", i / 50,
		    i % 50 + 1);
		assert_int_equal(target_list_add(&list, "t", 300 + (unsigned)i,
		                     line, strlen(line)),
		    1);
	}
	for (n = 1; n <= 16; n++) {
		memset(per, 0, sizeof(per));
		for (i = 0; i < list.n; i++)
			per[shard_of(&list.v[i], n) - 1]++;
		/* A fair split, within a factor of two either way. */
		for (k = 0; k < n; k++)
			if (per[k] * n * 2 < list.n || per[k] * n > list.n * 2)
				fail_msg("shard %u/%u has %zu of %zu targets",
				    k + 1, n, per[k], list.n);
	}
	target_list_free(&list);
}

/*
 * The filter keeps its shard in file order, frees the rest, and leaves a
 * list that still finds duplicates.
 */
static void
test_filter(void **state)
{
	static const char *const lines[] = {"127.0.0.1:1", "127.0.0.1:2",
	    "127.0.0.1:3", "127.0.0.1:4", "127.0.0.1:5", "127.0.0.1:6",
	    "127.0.0.1:7", "127.0.0.1:8", "127.0.0.1:9", "icmp://127.0.0.1",
	    "http://127.0.0.1:8080/", "[::1]:443"};
	const size_t nlines = sizeof(lines) / sizeof(lines[0]);
	struct shard s = {2, 3}, none = {0, 0};
	struct target_list list;
	const char *dropped = NULL;
	struct target t;
	size_t i, j;
	char want[16][64];
	size_t nwant = 0;

	(void)state;
	memset(&list, 0, sizeof(list));
	for (i = 0; i < nlines; i++) {
		assert_int_equal(target_list_add(&list, "t", (unsigned)i + 1,
		                     lines[i], strlen(lines[i])),
		    1);
		parse(lines[i], &t);
		if (shard_keeps(&s, &t))
			snprintf(want[nwant++], sizeof(want[0]), "%s",
			    lines[i]);
		target_clear(&t);
	}
	assert_true(nwant > 0 && nwant < nlines);
	assert_int_equal(shard_filter(&none, &list), nlines);
	assert_int_equal(list.n, nlines);
	assert_int_equal(shard_filter(&s, &list), nlines);
	assert_int_equal(list.n, nwant);
	for (i = 0; i < list.n; i++)
		assert_string_equal(list.v[i].spec, want[i]);
	/* A kept target is still a duplicate; a dropped one is not. */
	assert_int_equal(target_list_add(&list, "t", 99, want[0],
	                     strlen(want[0])),
	    0);
	for (i = 0; i < nlines && dropped == NULL; i++) {
		for (j = 0; j < nwant; j++)
			if (strcmp(lines[i], want[j]) == 0)
				break;
		if (j == nwant)
			dropped = lines[i];
	}
	assert_non_null(dropped);
	assert_int_equal(target_list_add(&list, "t", 100, dropped,
	                     strlen(dropped)),
	    1);
	assert_int_equal(list.n, nwant + 1);
	assert_int_equal(shard_filter(&s, &list), nwant + 1);
	assert_int_equal(list.n, nwant);
	target_list_free(&list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_hash_pinned),
	    cmocka_unit_test(test_keeps_pinned),
	    cmocka_unit_test(test_partition),
	    cmocka_unit_test(test_filter),
	};

	log_init("test_shard", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
