/* Probe a list of targets once through a worker pool: scan and check. */
#ifndef PULSE_BATCH_H
#define PULSE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "result_store.h"
#include "target.h"

struct atomic_file;

struct batch_opts {
	unsigned workers;  /* at most this many, never more than targets */
	unsigned parallel; /* TCP or HTTP probes a worker runs at once */
	int64_t timeout_us;
	int64_t grace_us; /* after the first SIGTERM/SIGINT */
	double rate;      /* probes started per second, 0: no cap */
	const char *user; /* --user, NULL: the default */
	bool no_sandbox;  /* --no-sandbox: workers without seccomp */
	/* --output, opened as started; handed to the identity pulse drops to */
	struct atomic_file *output;
	bool progress; /* a progress line on stderr, for a terminal */
	/* Called with each result as it arrives, in no set order. */
	void (*on_result)(void *arg, size_t index, const struct result *);
	void *arg;
};

struct batch {
	struct result_store results; /* result i belongs to targets->v[i] */
	size_t n;
	unsigned workers; /* the pool size used */
	int signo;        /* the first signal received, or 0 */
	char signame[16]; /* its name, "SIGTERM" */
	/* private */
	bool *done;
	size_t ndone, nfailed;
	int64_t start_us;    /* monotonic */
	bool progress_shown; /* a line to clear at the end */
	struct event_base *base;
	struct sup *sup;
};

/*
 * Probe every target of list once and fill b.  Returns 0, -1 when no
 * worker could be started, -2 for a bad --user.
 */
int batch_run(struct batch *b, const struct target_list *list,
    const struct batch_opts *);
void batch_free(struct batch *);

#endif
