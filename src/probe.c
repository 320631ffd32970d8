/* Dispatch a target to the probe of its kind; per-worker probe state. */
#include "config.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "probe_http.h"
#include "probe_icmp.h"
#include "probe_tcp.h"

void
probe_run(const struct target *t, int64_t deadline_us, struct probe_env *env,
    struct result *r)
{
	switch (t->kind) {
	case TARGET_TCP:
		probe_tcp_run(t, deadline_us, r);
		return;
	case TARGET_ICMP:
		probe_icmp_run(t, deadline_us, env, r);
		return;
	case TARGET_HTTP:
		if (env->http == NULL)
			env->http = probe_http_ctx_new();
		probe_http_run(t, deadline_us, env->http, r);
		return;
	}
	result_fail(r, REASON_CONFIG, "unknown target kind %d", (int)t->kind);
}

void
probe_env_seed(struct probe_env *env)
{
	uint64_t seed = 0;

	/* Without getrandom, time and pid still differ between workers. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	env->rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
	env->echo_seq = (uint16_t)probe_env_random(env);
}

void
probe_env_free(struct probe_env *env)
{
	probe_http_ctx_free(env->http);
	env->http = NULL;
	probe_tcp_batch_free(env->tcp);
	env->tcp = NULL;
}

uint64_t
probe_env_random(struct probe_env *env)
{
	uint64_t x = env->rng; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	env->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}
