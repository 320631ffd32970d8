/* Dispatch a target to the probe of its kind. */
#include "config.h"

#include "probe.h"
#include "probe_tcp.h"

void
probe_run(const struct target *t, int64_t deadline_us, struct result *r)
{
	switch (t->kind) {
	case TARGET_TCP:
		probe_tcp_run(t, deadline_us, r);
		return;
	}
	result_fail(r, REASON_CONFIG, "unknown target kind %d", (int)t->kind);
}
