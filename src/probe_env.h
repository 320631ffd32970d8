/* What a worker lends its probes: inherited sockets and per-worker state. */
#ifndef PULSE_PROBE_ENV_H
#define PULSE_PROBE_ENV_H

#include <stdint.h>

#include "icmp_sock.h"

struct probe_http_ctx;
struct probe_tcp_batch;

struct allowlist;

struct probe_env {
	const struct icmp_socks *icmp; /* NULL when ICMP is not set up */
	uint16_t echo_seq;             /* next echo sequence number */
	uint64_t rng;                  /* xorshift state for cookies */
	struct probe_http_ctx *http;   /* made by the first HTTP probe */
	struct probe_tcp_batch *tcp;   /* made by the first TCP batch */
	const struct allowlist *allow; /* of restricted probes, never NULL */
};

/* Seed env->rng and env->echo_seq from the kernel's random source. */
void probe_env_seed(struct probe_env *);
/* Free what probes set up in env. */
void probe_env_free(struct probe_env *);
/* The next pseudo-random 64 bits. */
uint64_t probe_env_random(struct probe_env *);

#endif
