/* "pulse scan": probe every target once and write one document. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "commands.h"
#include "log.h"
#include "output_json.h"
#include "priv.h"
#include "proc.h"
#include "scan_report.h"
#include "supervisor.h"
#include "target.h"
#include "util.h"

#define SCAN_DEFAULT_WORKERS 16
#define SCAN_MAX_WORKERS 4096
#define SCAN_DEFAULT_TIMEOUT_US (5 * USEC_PER_SEC)
#define SCAN_DEFAULT_GRACE_US (5 * USEC_PER_SEC)
#define SCAN_SLACK_US (500 * USEC_PER_MSEC)
#define WORKER_MEMORY_BYTES (1024ULL * 1024 * 1024)
#define WORKER_OPEN_FILES 64

struct scan_opts {
	const char *targets_file;
	const char *output;
	const char *user;
	double rate;
	unsigned workers;
	int64_t timeout_us;
	int64_t grace_us;
};

struct scan {
	struct scan_opts opts;
	struct target_list targets;
	struct result *results;
	bool *done;
	size_t ndone;
	struct event_base *base;
	struct sup *sup;
	int signo; /* first signal received, or 0 */
	char signame[16];
};

void
cmd_scan_usage(FILE *f)
{
	fprintf(f,
	    "usage: pulse scan [options] [TARGET ...]\n"
	    "\n"
	    "Probe every target once and write the results.\n"
	    "\n"
	    "  -t, --targets FILE   read targets from FILE (- for stdin)\n"
	    "  -w, --workers N      worker processes, 1..4096 (default 16)\n"
	    "      --timeout DUR    default probe timeout (default 5s)\n"
	    "      --grace DUR      drain time after SIGTERM/SIGINT "
	    "(default 5s)\n"
	    "  -f, --format FMT     output format: json (default json)\n"
	    "  -o, --output FILE    write to FILE atomically instead of "
	    "stdout\n"
	    "      --rate N         start at most N probes per second "
	    "(default: no cap)\n"
	    "      --user USER      run workers as USER when started as root "
	    "(default pulse,\n"
	    "                       else nobody)\n"
	    "  -q, --quiet          report only errors on stderr\n"
	    "  -v, --verbose        report progress and debugging detail\n"
	    "  -h, --help           show this help\n"
	    "\n"
	    "Durations look like 500ms, 5s, 2m or 1m30s.\n"
	    "Exit status: 0 all up, 1 some down, 2 usage or targets error,\n"
	    "3 internal error, 130/143 interrupted by SIGINT/SIGTERM.\n");
}

static int
opt_duration(const char *name, const char *arg, int64_t min, int64_t *out)
{
	char why[128], lo[32];

	if (duration_parse(arg, out, why, sizeof(why)) == -1) {
		log_errorx("--%s %s: %s", name, arg, why);
		return -1;
	}
	if (*out < min || *out > 3600 * USEC_PER_SEC) {
		duration_format(min, lo, sizeof(lo));
		log_errorx("--%s %s: must be between %s and 1h", name, arg, lo);
		return -1;
	}
	return 0;
}

static int
scan_parse_args(int argc, char **argv, struct scan_opts *o, int *help)
{
	static const struct option longopts[] = {
	    {"targets", required_argument, NULL, 't'},
	    {"workers", required_argument, NULL, 'w'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"grace", required_argument, NULL, 'G'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"rate", required_argument, NULL, 'R'},
	    {"user", required_argument, NULL, 'U'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char why[128];
	long long v;
	int ch;

	o->workers = SCAN_DEFAULT_WORKERS;
	o->timeout_us = SCAN_DEFAULT_TIMEOUT_US;
	o->grace_us = SCAN_DEFAULT_GRACE_US;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "t:w:f:o:qvh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 't':
			o->targets_file = optarg;
			break;
		case 'w':
			if (parse_int_range(optarg, 1, SCAN_MAX_WORKERS, &v,
			        why, sizeof(why)) == -1) {
				log_errorx("--workers: %s", why);
				return -1;
			}
			o->workers = (unsigned)v;
			break;
		case 'T':
			if (opt_duration("timeout", optarg, USEC_PER_MSEC,
			        &o->timeout_us) == -1)
				return -1;
			break;
		case 'G':
			if (opt_duration("grace", optarg, 0, &o->grace_us) ==
			    -1)
				return -1;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0) {
				log_errorx("--format %s: unknown format "
				           "(supported: json)",
				    optarg);
				return -1;
			}
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'R':
			if (parse_int_range(optarg, 1, 1000000, &v, why,
			        sizeof(why)) == -1) {
				log_errorx("--rate: %s", why);
				return -1;
			}
			o->rate = (double)v;
			break;
		case 'U':
			o->user = optarg;
			break;
		case 'q':
			log_set_level(LOG_LEVEL_ERROR);
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			*help = 1;
			return 0;
		default:
			return -1;
		}
	}
	return 0;
}

/* Targets come from --targets and then the arguments, deduplicated. */
static int
scan_load_targets(struct scan *sc, int argc, char **argv)
{
	int i, bad = 0;

	if (sc->opts.targets_file != NULL &&
	    target_load_file(sc->opts.targets_file, &sc->targets) == -1)
		bad = 1;
	for (i = 0; i < argc; i++)
		if (target_list_add(&sc->targets, NULL, (unsigned)i + 1,
		        argv[i], strlen(argv[i])) == -1)
			bad = 1;
	if (bad)
		return -1;
	if (sc->targets.n == 0) {
		log_errorx("no targets: give --targets FILE or TARGET "
		           "arguments");
		return -1;
	}
	return 0;
}

static void
scan_on_result(void *arg, uint64_t id, const struct target *t,
    const struct result *r)
{
	struct scan *sc = arg;

	if (id >= sc->targets.n || sc->done[id])
		fatalx("second result for %s", t->spec);
	sc->results[id] = *r;
	sc->done[id] = true;
	if (++sc->ndone == sc->targets.n)
		event_base_loopbreak(sc->base);
}

/* First signal: drain.  Second: end the grace period now. */
static void
scan_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct scan *sc = arg;

	if (sc->signo != 0) {
		log_warnx("%s again: cancelling probes in flight", sc->signame);
		sup_cancel_inflight(sc->sup);
		return;
	}
	sc->signo = (int)sig;
	proc_signame((int)sig, sc->signame, sizeof(sc->signame));
	log_warnx("%s: stopping, %zu probes in flight may finish", sc->signame,
	    sup_inflight(sc->sup));
	sup_drain(sc->sup, sc->opts.grace_us);
}

/*
 * Run every target through the pool; 0, -1 if no worker started, -2 for
 * a bad --user.
 */
static int
scan_run(struct scan *sc)
{
	struct event *ev_term, *ev_int;
	struct sup_config cfg;
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = sc->opts.workers < sc->targets.n
	    ? sc->opts.workers
	    : (unsigned)sc->targets.n;
	cfg.default_timeout_us = sc->opts.timeout_us;
	cfg.slack_us = SCAN_SLACK_US;
#ifdef PULSE_SANITIZERS
	cfg.limits.limit_memory = false;
#else
	cfg.limits.limit_memory = true;
#endif
	cfg.limits.memory_bytes = WORKER_MEMORY_BYTES;
	cfg.limits.open_files = WORKER_OPEN_FILES;
	cfg.on_result = scan_on_result;
	cfg.arg = sc;
	cfg.rate = sc->opts.rate;
	cfg.default_count = 1;
	for (i = 0; i < sc->targets.n; i++)
		if (sc->targets.v[i].kind == TARGET_ICMP)
			cfg.icmp = true;
	if (priv_worker_identity(sc->opts.user, &cfg.drop, &cfg.uid,
	        &cfg.gid) == -1)
		return -2;
	sc->opts.workers = cfg.workers;
	ev_term = evsignal_new(sc->base, SIGTERM, scan_on_signal, sc);
	ev_int = evsignal_new(sc->base, SIGINT, scan_on_signal, sc);
	if (ev_term == NULL || ev_int == NULL || evsignal_add(ev_term, NULL) ||
	    evsignal_add(ev_int, NULL))
		fatalx("cannot set up signal events");
	if ((sc->sup = sup_new(sc->base, &cfg)) == NULL) {
		log_errorx("no worker process could be started");
		event_free(ev_term);
		event_free(ev_int);
		return -1;
	}
	for (i = 0; i < sc->targets.n && sc->signo == 0; i++)
		sup_submit(sc->sup, &sc->targets.v[i], i);
	if (sc->ndone < sc->targets.n)
		event_base_dispatch(sc->base);
	sup_free(sc->sup);
	sc->sup = NULL;
	event_free(ev_term);
	event_free(ev_int);
	return 0;
}

static int
scan_write(struct scan *sc, const struct scan_report *rep,
    struct atomic_file *af)
{
	FILE *f = af != NULL ? atomic_file_stream(af) : stdout;

	if (output_json_write(f, rep) == -1 || fflush(f) == EOF) {
		log_error("writing %s",
		    af != NULL ? sc->opts.output : "output");
		atomic_file_abort(af);
		return -1;
	}
	if (af != NULL && atomic_file_commit(af) == -1) {
		log_error("%s", sc->opts.output);
		return -1;
	}
	return 0;
}

static int
scan_exit_code(const struct scan *sc, const struct scan_report *rep)
{
	struct scan_counts c;

	if (sc->signo != 0)
		return 128 + sc->signo;
	scan_report_count(rep, &c);
	return c.up == c.total ? EXIT_UP : EXIT_DOWN;
}

static void
scan_free(struct scan *sc)
{
	target_list_free(&sc->targets);
	free(sc->results);
	free(sc->done);
	if (sc->base != NULL)
		event_base_free(sc->base);
}

int
cmd_scan(int argc, char **argv)
{
	struct scan sc;
	struct scan_report rep;
	struct atomic_file *af = NULL;
	int help = 0, rc;
	int64_t t0;

	memset(&sc, 0, sizeof(sc));
	log_set_level(LOG_LEVEL_WARN);
	priv_raise_nofile();
	if (scan_parse_args(argc, argv, &sc.opts, &help) == -1) {
		cmd_scan_usage(stderr);
		return EXIT_USAGE;
	}
	if (help) {
		cmd_scan_usage(stdout);
		return EXIT_UP;
	}
	if (scan_load_targets(&sc, argc - optind, argv + optind) == -1) {
		scan_free(&sc);
		return EXIT_USAGE;
	}
	if (sc.opts.output != NULL &&
	    (af = atomic_file_open(sc.opts.output)) == NULL) {
		log_error("cannot write %s", sc.opts.output);
		scan_free(&sc);
		return EXIT_USAGE;
	}
	sc.results = xcalloc(sc.targets.n, sizeof(*sc.results));
	sc.done = xcalloc(sc.targets.n, sizeof(*sc.done));
	if ((sc.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	memset(&rep, 0, sizeof(rep));
	rep.start_us = wall_now_us();
	t0 = mono_now_us();
	if ((rc = scan_run(&sc)) < 0) {
		atomic_file_abort(af);
		scan_free(&sc);
		return rc == -2 ? EXIT_USAGE : EXIT_INTERNAL;
	}
	rep.duration_us = mono_now_us() - t0;
	rep.targets = sc.targets.v;
	rep.results = sc.results;
	rep.n = sc.targets.n;
	rep.default_timeout_us = sc.opts.timeout_us;
	rep.workers = sc.opts.workers;
	rep.interrupted = sc.signo != 0 ? sc.signame : NULL;
	rc = scan_write(&sc, &rep, af) == -1 ? EXIT_INTERNAL
	                                     : scan_exit_code(&sc, &rep);
	scan_free(&sc);
	return rc;
}
