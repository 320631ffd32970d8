/* Probe a list of targets once through a pool, draining on a signal. */
#include "config.h"

#include <event2/event.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "batch.h"
#include "log.h"
#include "priv.h"
#include "proc.h"
#include "supervisor.h"
#include "util.h"

struct batch_run {
	struct batch *b;
	const struct batch_opts *o;
};

/* Progress starts after this long, so a quick scan prints nothing. */
#define BATCH_PROGRESS_AFTER_US (1 * USEC_PER_SEC)
#define BATCH_PROGRESS_EVERY_US (250 * USEC_PER_MSEC)

static void
batch_on_result(void *arg, uint64_t id, const struct target *t,
    const struct result *r)
{
	struct batch_run *run = arg;
	struct batch *b = run->b;

	if (id >= b->n || b->done[id])
		fatalx("second result for %s", t->spec);
	result_store_put(&b->results, (size_t)id, r);
	b->done[id] = true;
	if (!r->success)
		b->nfailed++;
	if (run->o->on_result != NULL)
		run->o->on_result(run->o->arg, (size_t)id, r);
	if (++b->ndone == b->n)
		event_base_loopbreak(b->base);
}

/* First signal: drain.  Second: end the grace period now. */
static void
batch_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct batch_run *run = arg;
	struct batch *b = run->b;

	if (b->signo != 0) {
		log_warnx("%s again: cancelling probes in flight", b->signame);
		sup_cancel_inflight(b->sup);
		return;
	}
	b->signo = (int)sig;
	proc_signame((int)sig, b->signame, sizeof(b->signame));
	log_warnx("%s: stopping, %zu probes in flight may finish", b->signame,
	    sup_inflight(b->sup));
	sup_drain(b->sup, run->o->grace_us);
}

/* "1234/10000 done, 3 down, 2100/s, 4s left", redrawn in place. */
static void
batch_on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct batch_run *run = arg;
	struct batch *b = run->b;
	int64_t elapsed = mono_now_us() - b->start_us, left_us = 0;
	double rate;
	char eta[32];

	if (elapsed < BATCH_PROGRESS_AFTER_US || b->ndone == b->n)
		return;
	rate = (double)b->ndone * USEC_PER_SEC / (double)elapsed;
	if (rate > 0)
		left_us =
		    (int64_t)((double)(b->n - b->ndone) / rate) * USEC_PER_SEC;
	duration_format(left_us - left_us % USEC_PER_SEC + USEC_PER_SEC, eta,
	    sizeof(eta));
	fprintf(stderr, "\r\033[K%zu/%zu done, %zu down, %.0f/s, %s %s",
	    b->ndone, b->n, b->nfailed, rate, rate > 0 ? eta : "?", "left");
	fflush(stderr);
	b->progress_shown = true;
}

static void
batch_config(struct sup_config *cfg, const struct target_list *list,
    const struct batch_opts *o)
{
	size_t i;

	sup_config_defaults(cfg);
	cfg->workers = o->workers < list->n ? o->workers : (unsigned)list->n;
	if (o->parallel > 0)
		cfg->parallel = o->parallel;
	cfg->default_timeout_us = o->timeout_us;
	cfg->on_result = batch_on_result;
	cfg->rate = o->rate;
	cfg->sandbox = !o->no_sandbox;
	for (i = 0; i < list->n; i++)
		if (list->v[i].kind == TARGET_ICMP)
			cfg->icmp = true;
		else if (list->v[i].kind == TARGET_HTTP)
			cfg->http = true;
}

/*
 * The output is renamed into place after the drop, by the user dropped
 * to: its directory must let that user, and the file must be theirs.
 */
static int
batch_hand_output(struct atomic_file *af, const struct sup_config *cfg)
{
	char *copy = xstrdup(atomic_file_path(af));
	const char *dir = dirname(copy);
	int ok = priv_user_may_replace(dir, atomic_file_path(af), cfg->uid,
	    cfg->gid);

	if (ok != 1) {
		log_errorx("--output %s: uid %u, which pulse runs as once "
		           "started, may not write it in %s; give --user, or "
		           "write where that user may",
		    atomic_file_path(af), (unsigned)cfg->uid, dir);
		free(copy);
		return -1;
	}
	free(copy);
	if (atomic_file_chown(af, cfg->uid, cfg->gid) == -1) {
		log_error("--output %s", atomic_file_path(af));
		return -1;
	}
	return 0;
}

int
batch_run(struct batch *b, const struct target_list *list,
    const struct batch_opts *o)
{
	struct batch_run run = {b, o};
	struct event *ev_term = NULL, *ev_int = NULL, *ev_progress = NULL;
	struct timeval every = {0, BATCH_PROGRESS_EVERY_US};
	struct sup_config cfg;
	size_t i;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	b->n = list->n;
	result_store_init(&b->results, list->n);
	b->done = xcalloc(list->n, sizeof(*b->done));
	if ((b->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	batch_config(&cfg, list, o);
	cfg.arg = &run;
	if (priv_worker_identity(o->user, &cfg.drop, &cfg.uid, &cfg.gid) ==
	        -1 ||
	    (cfg.drop && o->output != NULL &&
	        batch_hand_output(o->output, &cfg) == -1))
		return -2;
	if (o->no_sandbox)
		log_warnx("--no-sandbox: workers run without their system-call "
		          "filter; a compromised probe could do all its user "
		          "may");
	b->workers = cfg.workers;
	b->start_us = mono_now_us();
	if (o->progress) {
		ev_progress =
		    event_new(b->base, -1, EV_PERSIST, batch_on_progress, &run);
		if (ev_progress == NULL || event_add(ev_progress, &every) == -1)
			fatalx("cannot set up the progress timer");
	}
	ev_term = evsignal_new(b->base, SIGTERM, batch_on_signal, &run);
	ev_int = evsignal_new(b->base, SIGINT, batch_on_signal, &run);
	if (ev_term == NULL || ev_int == NULL || evsignal_add(ev_term, NULL) ||
	    evsignal_add(ev_int, NULL))
		fatalx("cannot set up signal events");
	if ((b->sup = sup_new(b->base, &cfg)) == NULL) {
		log_errorx("no worker process could be started");
		rc = -1;
		goto out;
	}
	/* The pool holds the ICMP sockets: nothing privileged is left. */
	priv_drop_supervisor(cfg.drop, cfg.uid, cfg.gid);
	for (i = 0; i < list->n && b->signo == 0; i++)
		sup_submit(b->sup, &list->v[i], i);
	if (b->ndone < b->n)
		event_base_dispatch(b->base);
	sup_free(b->sup);
	b->sup = NULL;
out:
	event_free(ev_term);
	event_free(ev_int);
	if (ev_progress != NULL)
		event_free(ev_progress);
	if (b->progress_shown)
		fputs("\r\033[K", stderr);
	return rc;
}

void
batch_free(struct batch *b)
{
	result_store_free(&b->results);
	free(b->done);
	if (b->base != NULL)
		event_base_free(b->base);
	memset(b, 0, sizeof(*b));
}
