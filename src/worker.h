/* A worker process: read a probe request, run it under limits, reply. */
#ifndef PULSE_WORKER_H
#define PULSE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct worker_limits {
	bool limit_memory;	/* off under sanitizers, which map terabytes */
	uint64_t memory_bytes;	/* RLIMIT_AS */
	unsigned open_files;	/* RLIMIT_NOFILE */
};

/* Worker entry for proc_spawn(); arg is a struct worker_limits. */
int worker_main(int fd, void *arg);

#endif
