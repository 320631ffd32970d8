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
#include <unistd.h>

#include "atomic_file.h"
#include "batch.h"
#include "commands.h"
#include "config_yaml.h"
#include "log.h"
#include "output.h"
#include "output_json.h"
#include "priv.h"
#include "proc.h"
#include "scan_report.h"
#include "shard.h"
#include "supervisor.h"
#include "target.h"
#include "util.h"
#include "worker.h"

#define SCAN_DEFAULT_WORKERS 16
#define SCAN_MAX_WORKERS 4096
#define SCAN_DEFAULT_TIMEOUT_US (5 * USEC_PER_SEC)
#define SCAN_DEFAULT_GRACE_US (5 * USEC_PER_SEC)

struct scan_opts {
	const char *targets_file;
	const char *config_file;
	const char *output;
	enum output_format format;
	bool format_set;
	bool quiet;
	struct shard shard;
	struct batch_opts run;
};

struct scan {
	struct scan_opts opts;
	struct target_list targets;
	struct batch batch;
	FILE *out;        /* where the report goes */
	int stream_error; /* a streamed line could not be written */
};

void
cmd_scan_usage(FILE *f)
{
	fprintf(f,
	    "usage: pulse scan [options] [TARGET ...]\n"
	    "\n"
	    "Probe every target once and write the results.\n"
	    "\n"
	    "  -t, --targets FILE   read targets from FILE (- for stdin; YAML "
	    "when\n"
	    "                       it ends in .yaml or .yml)\n"
	    "  -c, --config FILE    read targets from the YAML file FILE\n"
	    "  -w, --workers N      worker processes, 1..4096 (default 16)\n"
	    "      --parallel N     TCP or HTTP probes each worker runs at "
	    "once,\n"
	    "                       1..64 (default 8)\n"
	    "      --timeout DUR    default probe timeout (default 5s)\n"
	    "      --grace DUR      drain time after SIGTERM/SIGINT "
	    "(default 5s)\n"
	    "  -f, --format FMT     table, json, jsonl, yaml or prometheus "
	    "(default\n"
	    "                       table on a terminal, json otherwise)\n"
	    "  -o, --output FILE    write to FILE atomically instead of "
	    "stdout\n"
	    "      --rate N         start at most N probes per second "
	    "(default: no cap)\n"
	    "      --shard K/N      probe only shard K of N (auto/N: K from "
	    "the host\n"
	    "                       name's -ORDINAL, plus 1)\n"
	    "      --user USER      run as USER once started as root "
	    "(default pulse,\n"
	    "                       else nobody)\n"
	    "      --no-sandbox     workers without their system-call filter "
	    "(debugging)\n"
	    "  -q, --quiet          report only errors on stderr\n"
	    "  -v, --verbose        report progress and debugging detail\n"
	    "  -h, --help           show this help\n"
	    "\n"
	    "Durations look like 500ms, 5s, 2m or 1m30s.\n"
	    "Exit status: 0 all up, 1 some down, 2 usage or targets error,\n"
	    "3 internal error, 130/143 interrupted by SIGINT/SIGTERM.\n");
}

static int
scan_parse_args(int argc, char **argv, struct scan_opts *o, int *help)
{
	static const struct option longopts[] = {
	    {"targets", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'c'},
	    {"workers", required_argument, NULL, 'w'},
	    {"parallel", required_argument, NULL, 'P'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"grace", required_argument, NULL, 'G'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"rate", required_argument, NULL, 'R'},
	    {"shard", required_argument, NULL, 'S'},
	    {"user", required_argument, NULL, 'U'},
	    {"no-sandbox", no_argument, NULL, 'N'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char why[512];
	long long v;
	int ch;

	o->run.workers = SCAN_DEFAULT_WORKERS;
	o->run.parallel = WORKER_PARALLEL_DEFAULT;
	o->run.timeout_us = SCAN_DEFAULT_TIMEOUT_US;
	o->run.grace_us = SCAN_DEFAULT_GRACE_US;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "t:c:w:f:o:qvh", longopts,
	            NULL)) != -1) {
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
			o->run.workers = (unsigned)v;
			break;
		case 'P':
			if (parse_int_range(optarg, 1, WORKER_PARALLEL_MAX, &v,
			        why, sizeof(why)) == -1) {
				log_errorx("--parallel: %s", why);
				return -1;
			}
			o->run.parallel = (unsigned)v;
			break;
		case 'T':
			if (duration_flag("timeout", optarg, USEC_PER_MSEC,
			        3600 * USEC_PER_SEC, &o->run.timeout_us) == -1)
				return -1;
			break;
		case 'G':
			if (duration_flag("grace", optarg, 0,
			        3600 * USEC_PER_SEC, &o->run.grace_us) == -1)
				return -1;
			break;
		case 'c':
			o->config_file = optarg;
			break;
		case 'f':
			if (output_format_parse(optarg, &o->format) == -1) {
				log_errorx("--format %s: unknown format "
				           "(supported: table, json, jsonl, "
				           "yaml, prometheus)",
				    optarg);
				return -1;
			}
			o->format_set = true;
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
			o->run.rate = (double)v;
			break;
		case 'S':
			if (shard_parse(optarg, &o->shard, why, sizeof(why)) ==
			    -1) {
				log_errorx("--shard: %s", why);
				return -1;
			}
			break;
		case 'U':
			o->run.user = optarg;
			break;
		case 'N':
			o->run.no_sandbox = true;
			break;
		case 'q':
			o->quiet = true;
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
	    target_load_any(sc->opts.targets_file, &sc->targets) == -1)
		bad = 1;
	if (sc->opts.config_file != NULL &&
	    config_yaml_load(sc->opts.config_file, &sc->targets) == -1)
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

/* NO_COLOR (no-color.org): set and not empty turns colours off. */
static bool
no_colour(void)
{
	const char *v = getenv("NO_COLOR");

	return v != NULL && *v != '\0';
}

/* jsonl: each result goes out the moment it arrives. */
static void
scan_stream_result(void *arg, size_t i, const struct result *r)
{
	struct scan *sc = arg;

	if (output_jsonl_write_result(sc->out, &sc->targets.v[i], r,
	        sc->opts.run.timeout_us) == -1 ||
	    fflush(sc->out) == EOF)
		sc->stream_error = 1;
}

static int
scan_write(struct scan *sc, const struct scan_report *rep,
    struct atomic_file *af)
{
	FILE *f = sc->out;
	int rc = 0;

	switch (sc->opts.format) {
	case OUTPUT_TABLE:
		rc = output_table_write(f, rep,
		    af == NULL && isatty(fileno(f)) && !no_colour());
		break;
	case OUTPUT_JSON:
		rc = output_json_write(f, rep);
		break;
	case OUTPUT_JSONL: /* written as the results came */
		rc = sc->stream_error ? -1 : 0;
		break;
	case OUTPUT_YAML:
		rc = output_yaml_write(f, rep);
		break;
	case OUTPUT_PROMETHEUS:
		rc = output_prom_write(f, rep);
		break;
	}
	if (rc == -1 || fflush(f) == EOF) {
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

	if (sc->batch.signo != 0)
		return 128 + sc->batch.signo;
	scan_report_count(rep, &c);
	return c.up == c.total ? EXIT_UP : EXIT_DOWN;
}

static void
scan_free(struct scan *sc)
{
	batch_free(&sc->batch);
	target_list_free(&sc->targets);
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
	shard_filter(&sc.opts.shard, &sc.targets);
	if (sc.opts.output != NULL &&
	    (af = atomic_file_open(sc.opts.output)) == NULL) {
		log_error("cannot write %s", sc.opts.output);
		scan_free(&sc);
		return EXIT_USAGE;
	}
	sc.out = af != NULL ? atomic_file_stream(af) : stdout;
	sc.opts.run.output = af;
	if (!sc.opts.format_set)
		sc.opts.format = af == NULL && isatty(STDOUT_FILENO)
		    ? OUTPUT_TABLE
		    : OUTPUT_JSON;
	if (sc.opts.format == OUTPUT_JSONL) {
		sc.opts.run.on_result = scan_stream_result;
		sc.opts.run.arg = &sc;
	}
	sc.opts.run.progress = !sc.opts.quiet && isatty(STDERR_FILENO);
	memset(&rep, 0, sizeof(rep));
	rep.start_us = wall_now_us();
	t0 = mono_now_us();
	/* A shard may keep no target: an empty report, and all is up. */
	if (sc.targets.n > 0 &&
	    (rc = batch_run(&sc.batch, &sc.targets, &sc.opts.run)) < 0) {
		atomic_file_abort(af);
		scan_free(&sc);
		return rc == -2 ? EXIT_USAGE : EXIT_INTERNAL;
	}
	rep.duration_us = mono_now_us() - t0;
	rep.targets = sc.targets.v;
	rep.store = &sc.batch.results;
	rep.n = sc.targets.n;
	rep.default_timeout_us = sc.opts.run.timeout_us;
	rep.workers = sc.batch.workers;
	rep.interrupted = sc.batch.signo != 0 ? sc.batch.signame : NULL;
	rc = scan_write(&sc, &rep, af) == -1 ? EXIT_INTERNAL
	                                     : scan_exit_code(&sc, &rep);
	scan_free(&sc);
	return rc;
}
