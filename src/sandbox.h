/* The system-call filter a worker runs under once it is set up. */
#ifndef PULSE_SANDBOX_H
#define PULSE_SANDBOX_H

#include <stddef.h>

/*
 * Load the filter into this process (and threads it starts later); it
 * cannot be undone.  Returns 0, or -1 with the reason in errbuf.
 */
int sandbox_worker(char *errbuf, size_t errlen);

#endif
