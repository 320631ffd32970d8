/* What the running process costs: CPU, memory, files, as Prometheus asks. */
#ifndef PULSE_PROCESS_STATS_H
#define PULSE_PROCESS_STATS_H

#include <stdint.h>

struct process_stats {
	double cpu_seconds;      /* user and system, this process alone */
	uint64_t resident_bytes; /* -1 as unknown: UINT64_MAX */
	uint64_t virtual_bytes;
	int64_t open_fds; /* -1: unknown */
	int64_t max_fds;  /* the soft RLIMIT_NOFILE, -1 when unlimited */
};

/*
 * Read this process's figures from getrusage(2), getrlimit(2) and /proc;
 * a figure that cannot be read is left at its unknown value.
 */
void process_stats_read(struct process_stats *);

#endif
