/*
 * libFuzzer target for the line format: each input is one line, parsed
 * with target_parse_line() and added with target_list_add(), which also
 * expands address ranges.  A refused line must say why; an accepted one
 * must give a whole target whose canonical form parses back to the same
 * canonical form.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "target.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *null = fopen("/dev/null", "w");

	(void)argc;
	(void)argv;
	/* Bad lines are logged; libFuzzer keeps its own copy of stderr. */
	if (null != NULL)
		stderr = null;
	log_init("fuzz", LOG_LEVEL_ERROR);
	return 0;
}

/* The canonical form of an accepted target is itself a good target. */
static void
check_canonical(const struct target *t)
{
	char canon[TARGET_CANONICAL_MAX], again[TARGET_CANONICAL_MAX];
	char why[512];
	struct target u;

	target_canonical(t, canon, sizeof(canon));
	/* What a line would read otherwise: a comment, quotes, a split. */
	if (strlen(canon) >= TARGET_LINE_MAX ||
	    strpbrk(canon, " \t\"'#") != NULL)
		return;
	CHECK(
	    target_parse_line(canon, strlen(canon), &u, why, sizeof(why)) == 1);
	CHECK(u.kind == t->kind);
	target_canonical(&u, again, sizeof(again));
	CHECK(strcmp(canon, again) == 0);
	target_clear(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target_list list;
	struct target t;
	char why[512], key[TARGET_KEY_MAX], *line;
	int rc;

	why[0] = '\0';
	rc = target_parse_line((const char *)data, size, &t, why, sizeof(why));
	CHECK(rc == -1 || rc == 0 || rc == 1);
	if (rc == -1)
		CHECK(why[0] != '\0');
	if (rc == 1) {
		CHECK(t.spec != NULL && t.host != NULL);
		CHECK((t.kind == TARGET_HTTP) == (t.http != NULL));
		target_key(&t, key, sizeof(key));
		check_canonical(&t);
		target_clear(&t);
	}
	/* Every caller hands target_list_add() a NUL-terminated line. */
	line = malloc(size + 1);
	CHECK(line != NULL);
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&list, 0, sizeof(list));
	rc = target_list_add(&list, "fuzz.txt", 1, line, size);
	CHECK(rc == -1 || rc == 0 || rc == 1);
	CHECK(list.n <= TARGET_RANGE_MAX);
	target_list_free(&list);
	free(line);
	return 0;
}
