/* The readable report of one probe that "pulse check" prints. */
#ifndef PULSE_CHECK_TEXT_H
#define PULSE_CHECK_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "result.h"
#include "target.h"

/* A verdict line, then a few indented lines of detail. */
void check_text_write(FILE *, const struct target *, const struct result *,
    int64_t default_timeout_us);

#endif
