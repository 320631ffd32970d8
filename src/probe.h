/* Run whichever probe a target's kind names. */
#ifndef PULSE_PROBE_H
#define PULSE_PROBE_H

#include <stdint.h>

#include "probe_env.h"
#include "result.h"
#include "target.h"

void probe_run(const struct target *, int64_t deadline_us, struct probe_env *,
    struct result *);

#endif
