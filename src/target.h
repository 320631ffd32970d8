/* Targets: what to probe, parsed from the targets file or the command line. */
#ifndef PULSE_TARGET_H
#define PULSE_TARGET_H

#include <stddef.h>
#include <stdint.h>

enum target_kind { TARGET_TCP = 1 };

#define TARGET_HOST_MAX 253	/* longest DNS name, in octets */
#define TARGET_LINE_MAX 4096	/* longest line the targets file accepts */

struct target {
	enum target_kind kind;
	char *host;			/* name or literal, no brackets */
	uint16_t port;
	int64_t timeout_us;		/* 0: use the run's default */
	char *spec;			/* the target as written */
	char *name;			/* name=, or NULL: see target_name() */
	const char *file;		/* where it was defined, for messages */
	unsigned line;
};

struct target_list {
	struct target *v;
	size_t n, cap;
	size_t *slots;		/* hash of canonical forms: index + 1, 0 free */
	size_t nslots;
	unsigned errors;	/* bad lines seen by target_list_add() */
};

/*
 * Parse one line ("TARGET [key=value ...]"): returns 1 with *t filled, 0 for
 * a blank or comment line, -1 with a reason in errbuf.
 */
int target_parse_line(const char *line, size_t len, struct target *t,
    char *errbuf, size_t errlen);
/*
 * Parse one line and append it to the list.  file NULL means a command-line
 * argument, numbered by line.  A bad line is reported as "FILE:LINE:
 * reason" and counted in list->errors; a duplicate is reported and dropped.
 * Returns 1 when added, 0 when skipped, -1 for a bad line.
 */
int target_list_add(struct target_list *, const char *file, unsigned line,
    const char *text, size_t len);
/*
 * Read a whole targets file ("-" is stdin).  Every bad line is reported as
 * FILE:LINE: reason through log; duplicates are warned about and dropped.
 * Returns 0, or -1 when the file could not be read or had a bad line.
 */
int target_load_file(const char *path, struct target_list *);
/* Canonical text of what a target probes, e.g. "tcp://[::1]:80". */
void target_canonical(const struct target *, char *buf, size_t len);
const char *target_kind_name(enum target_kind);
/* The name= given, or the target as written. */
const char *target_name(const struct target *);
/* Free what a target owns and zero it. */
void target_clear(struct target *);
void target_list_free(struct target_list *);

#endif
