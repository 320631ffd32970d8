/* Load targets into a list: read files, report bad lines, drop duplicates. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "target.h"
#include "util.h"

/* Past this many messages, bad lines are only counted. */
#define TARGET_ERRORS_SHOWN 100

/* Grow the hash so it stays at most half full, then rehash everything. */
static void
list_rehash(struct target_list *list)
{
	size_t i, j, nslots;

	if (list->nslots >= 2 * (list->n + 1))
		return;
	nslots = list->nslots ? list->nslots * 2 : 64;
	free(list->slots);
	list->slots = xcalloc(nslots, sizeof(*list->slots));
	list->nslots = nslots;
	for (i = 0; i < list->n; i++) {
		j = list->hashes[i] & (nslots - 1);
		while (list->slots[j] != 0)
			j = (j + 1) & (nslots - 1);
		list->slots[j] = i + 1;
	}
}

/*
 * Find the key of t (hash h); return the slot holding it or the free one.
 * Keys are compared in full only when their hashes agree.
 */
static size_t *
list_lookup(struct target_list *list, const char *key, uint64_t h)
{
	char other[TARGET_KEY_MAX];
	size_t j, *slot;

	j = h & (list->nslots - 1);
	for (;; j = (j + 1) & (list->nslots - 1)) {
		slot = &list->slots[j];
		if (*slot == 0)
			return slot;
		if (list->hashes[*slot - 1] != h)
			continue;
		target_key(&list->v[*slot - 1], other, sizeof(other));
		if (strcmp(key, other) == 0)
			return slot;
	}
}

static void
report(struct target_list *list, const char *file, unsigned line,
    const char *why)
{
	if (++list->errors > TARGET_ERRORS_SHOWN)
		return;
	if (file == NULL)
		log_errorx("argument %u: %s", line, why);
	else
		log_errorx("%s:%u: %s", file, line, why);
}

static void
report_duplicate(const char *file, unsigned line, const struct target *first)
{
	char where[64];

	if (first->file == NULL)
		snprintf(where, sizeof(where), "argument %u", first->line);
	else if (file != NULL && strcmp(first->file, file) == 0)
		snprintf(where, sizeof(where), "line %u", first->line);
	else
		snprintf(where, sizeof(where), "%s:%u", first->file,
		    first->line);
	if (file == NULL)
		log_warnx("argument %u: duplicate of %s, ignored", line, where);
	else
		log_warnx("%s:%u: duplicate of %s, ignored", file, line, where);
}

struct add_ctx {
	struct target_list *list;
	const char *file;
	unsigned line;
};

static int add_one(void *arg, const char *text, size_t len);

int
target_list_add(struct target_list *list, const char *file, unsigned line,
    const char *text, size_t len)
{
	struct add_ctx c = {list, file, line};
	char why[512] = "";
	int rc;

	rc = target_range_expand(text, len, add_one, &c, why, sizeof(why));
	if (rc == 0)
		return add_one(&c, text, len);
	if (rc == -1 && why[0] != '\0')
		report(list, file, line, why);
	return rc;
}

/* Parse one line and append what it names. */
static int
add_one(void *arg, const char *text, size_t len)
{
	struct add_ctx *c = arg;
	struct target_list *list = c->list;
	const char *file = c->file;
	unsigned line = c->line;
	struct target t;
	char why[512];
	int rc;

	/* A few lines of ranges would make gigabytes of targets. */
	if (list->n >= TARGET_LIST_MAX) {
		snprintf(why, sizeof(why), "more than %d targets",
		    TARGET_LIST_MAX);
		report(list, file, line, why);
		return -1;
	}
	if ((rc = target_parse_line(text, len, &t, why, sizeof(why))) <= 0) {
		if (rc == -1)
			report(list, file, line, why);
		return rc;
	}
	t.file = file;
	t.line = line;
	return target_list_push(list, &t);
}

int
target_list_push(struct target_list *list, struct target *tp)
{
	struct target t = *tp;
	char key[TARGET_KEY_MAX];
	uint64_t h;
	size_t *slot;

	memset(tp, 0, sizeof(*tp));
	target_key(&t, key, sizeof(key));
	h = hash_bytes(key, strlen(key));
	list_rehash(list);
	slot = list_lookup(list, key, h);
	if (*slot != 0) {
		if (++list->duplicates <= TARGET_ERRORS_SHOWN)
			report_duplicate(t.file, t.line, &list->v[*slot - 1]);
		target_clear(&t);
		return 0;
	}
	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 16;
		list->v = xreallocarray(list->v, list->cap, sizeof(*list->v));
		list->hashes = xreallocarray(list->hashes, list->cap,
		    sizeof(*list->hashes));
	}
	list->hashes[list->n] = h;
	list->v[list->n] = t;
	*slot = ++list->n;
	return 1;
}

/*
 * A chunk getline() read, split at every CR not followed by LF as well:
 * a file with CR line ends (old Macs) is many lines, not one in which a
 * comment would hide every target after it.
 */
static void
add_lines(struct target_list *list, const char *path, unsigned *lineno,
    const char *chunk, size_t len)
{
	size_t start = 0, i;

	for (i = 0; i < len; i++)
		if (chunk[i] == '\r' &&
		    (i + 1 == len || chunk[i + 1] != '\n')) {
			target_list_add(list, path, ++*lineno, chunk + start,
			    i - start);
			start = i + 1;
		}
	if (start < len)
		target_list_add(list, path, ++*lineno, chunk + start,
		    len - start);
}

int
target_load_file(const char *path, struct target_list *list)
{
	FILE *f = stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0, before = list->errors;
	unsigned dups_before = list->duplicates;
	int rc = 0;

	if (strcmp(path, "-") != 0 && (f = fopen(path, "re")) == NULL) {
		log_error("%s", path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1)
		add_lines(list, path, &lineno, line, (size_t)len);
	if (ferror(f)) {
		log_error("%s: read error", path);
		rc = -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (list->errors > TARGET_ERRORS_SHOWN && before <= TARGET_ERRORS_SHOWN)
		log_errorx("%s: %u more bad lines not shown", path,
		    list->errors - TARGET_ERRORS_SHOWN);
	if (list->duplicates > TARGET_ERRORS_SHOWN &&
	    dups_before <= TARGET_ERRORS_SHOWN)
		log_warnx("%s: %u more duplicates not shown", path,
		    list->duplicates - TARGET_ERRORS_SHOWN);
	return list->errors > before ? -1 : rc;
}
