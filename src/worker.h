/* A worker process: read a probe request, run it under limits, reply. */
#ifndef PULSE_WORKER_H
#define PULSE_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "icmp_sock.h"

struct allowlist;

/* The most TCP or HTTP probes one worker runs at once. */
#define WORKER_PARALLEL_MAX 64
/* The default: enough to hide a round trip to the supervisor. */
#define WORKER_PARALLEL_DEFAULT 8

struct worker_limits {
	bool limit_memory;     /* off under sanitizers, which map terabytes */
	uint64_t memory_bytes; /* RLIMIT_AS */
	unsigned open_files;   /* RLIMIT_NOFILE */
};

/* Everything a worker starts with; the supervisor keeps one per slot. */
struct worker_ctx {
	struct worker_limits limits;
	struct icmp_socks icmp;        /* inherited sockets, fd -1 if none */
	bool drop;                     /* switch to uid/gid before any probe */
	const struct allowlist *allow; /* of /probe's probes; NULL: none */
	bool sandbox;                  /* load the system-call filter */
	unsigned
	    parallel; /* TCP or HTTP probes run at once, 1..WORKER_PARALLEL_MAX */
	uid_t uid;
	gid_t gid;
};

/* Worker entry for proc_spawn(); arg is a struct worker_ctx. */
int worker_main(int fd, void *arg);

#endif
