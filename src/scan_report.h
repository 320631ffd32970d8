/* Everything a scan hands to an output writer. */
#ifndef PULSE_SCAN_REPORT_H
#define PULSE_SCAN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "result_store.h"
#include "target.h"

struct scan_report {
	const struct target *targets; /* in input order */
	/* results[i] belongs to targets[i]; NULL when they are in store */
	const struct result *results;
	const struct result_store *store;
	size_t n;
	int64_t start_us; /* wall clock */
	int64_t duration_us;
	int64_t default_timeout_us; /* for targets without timeout= */
	unsigned workers;
	const char *interrupted; /* "SIGTERM" when a signal cut it short */
};

struct scan_counts {
	size_t total, up, down, cancelled;
};

/*
 * Result i: in the array, or decoded from the store into *tmp, which the
 * caller set up with result_init() and releases when done with it.
 */
const struct result *scan_report_result(const struct scan_report *, size_t i,
    struct result *tmp);
void scan_report_count(const struct scan_report *, struct scan_counts *);

#endif
