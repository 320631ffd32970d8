/* Targets: what to probe, parsed from the targets file or the command line. */
#ifndef PULSE_TARGET_H
#define PULSE_TARGET_H

#include <stddef.h>
#include <stdint.h>

enum target_kind { TARGET_TCP = 1, TARGET_ICMP = 2 };

#define TARGET_HOST_MAX 253        /* longest DNS name, in octets */
#define TARGET_LINE_MAX 4096       /* longest line the targets file accepts */
#define TARGET_ICMP_SIZE 56        /* default payload, as ping(8) */
#define TARGET_ICMP_SIZE_MAX 65507 /* largest IPv4 echo payload */
#define TARGET_ICMP_COUNT_MAX 100
#define TARGET_ICMP_INTERVAL_US 100000 /* default spacing of echoes */

struct target {
	enum target_kind kind;
	char *host;          /* name or literal, no brackets */
	uint16_t port;       /* 0 for ICMP */
	int64_t timeout_us;  /* 0: use the run's default */
	int ipv;             /* 4 or 6 to pick a family, else 0 */
	unsigned count;      /* ICMP echoes, 0: the run's default */
	int64_t interval_us; /* ICMP spacing, 0: the default */
	unsigned size;       /* ICMP payload bytes */
	unsigned ttl;        /* ICMP TTL / hop limit, 0: system's */
	char *spec;          /* the target as written */
	char *name;          /* name=, or NULL: see target_name() */
	const char *file;    /* where it was defined, for messages */
	unsigned line;
};

struct target_list {
	struct target *v;
	size_t n, cap;
	size_t *slots;    /* hash of canonical forms: index + 1, 0 free */
	uint64_t *hashes; /* hash of each target's key, by index */
	size_t nslots;
	unsigned errors; /* bad lines seen by target_list_add() */
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
/* Canonical text of what a target probes: "tcp://[::1]:80", "icmp://h". */
void target_canonical(const struct target *, char *buf, size_t len);
/*
 * What makes two targets the same probe: the canonical form and every
 * option that changes what is sent ("icmp://h count=3"); not the name,
 * nor the timeout, which changes only how long we wait.
 */
void target_key(const struct target *, char *buf, size_t len);
#define TARGET_KEY_MAX 512
const char *target_kind_name(enum target_kind);
/*
 * True for an ICMP target whose host is an address: a worker may run it
 * in a sweep with others, since it needs no lookup that could hold them up.
 */
int target_sweepable(const struct target *);
/* The name= given, or the target as written. */
const char *target_name(const struct target *);
/* Free what a target owns and zero it. */
void target_clear(struct target *);
void target_list_free(struct target_list *);

#endif
