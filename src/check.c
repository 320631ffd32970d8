/* "pulse check": probe one target once, in a worker, and say how it went. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "check_plugin.h"
#include "check_text.h"
#include "commands.h"
#include "log.h"
#include "output_json.h"
#include "target.h"
#include "util.h"

#define CHECK_DEFAULT_TIMEOUT_US (5 * USEC_PER_SEC)
#define CHECK_OPTIONS_MAX 64

/* A probe option given as a flag, applied once the target is parsed. */
struct check_option {
	const char *key;
	const char *value; /* NULL for a bare flag */
};

struct check_opts {
	struct batch_opts run;
	int json;
	int quiet;
	int format; /* --format given */
	int plugin; /* --plugin: a monitoring plugin's output and exit codes */
	int help;
	enum check_state state; /* of the probe, against the thresholds */
	struct check_thresholds th;
	struct check_option probe[CHECK_OPTIONS_MAX];
	size_t nprobe;
};

void
cmd_check_usage(FILE *f)
{
	fprintf(f,
	    "usage: pulse check [options] TARGET\n"
	    "\n"
	    "Probe one target once and say whether it is up.  TARGET is what\n"
	    "a targets file line starts with: tcp://host:port, icmp://host,\n"
	    "http://... or https://...; the options of that line are flags.\n"
	    "\n"
	    "      --timeout DUR       give up after DUR (default 5s)\n"
	    "  -f, --format FMT        text (default) or json\n"
	    "  -q, --quiet             print nothing; the exit status says it\n"
	    "      --user USER         run as USER once started as root\n"
	    "      --no-sandbox        run the probe without its system-call "
	    "filter\n"
	    "      --name TEXT         the name to show\n"
	    "  -4, -6                  IPv4 or IPv6 only (ipv=)\n"
	    "HTTP:\n"
	    "      --method M          request method (default GET)\n"
	    "      --header 'N: v'     add a request header (repeatable)\n"
	    "      --body TEXT         request body; --body-file FILE\n"
	    "      --expect LIST       status codes, e.g. 200,3xx (default "
	    "2xx)\n"
	    "      --match RE          body must match RE (PCRE2)\n"
	    "      --not-match RE      body must not match RE\n"
	    "      --follow N          redirects to follow (default 5)\n"
	    "      --insecure          do not verify the TLS certificate\n"
	    "      --ca FILE           trust the CAs in FILE\n"
	    "      --host NAME         Host header and TLS name\n"
	    "      --sni NAME          TLS name only\n"
	    "      --http-version V    1.1 or 2\n"
	    "      --max-body SIZE     largest body read (default 1MiB)\n"
	    "ICMP:\n"
	    "      --count N, --interval DUR, --size N, --ttl N\n"
	    "Thresholds (SPEC: DUR, or for ICMP DUR,LOSS%%, e.g. 200ms,5%%):\n"
	    "      --warning SPEC      warn when slower or losing more\n"
	    "      --critical SPEC     the same, and count the target as down\n"
	    "      --plugin            print one status line and performance\n"
	    "                          data, as Nagios and Icinga read them\n"
	    "  -h, --help              show this help\n"
	    "\n"
	    "Exit status: 0 up, 1 down, 2 usage error, 3 internal error;\n"
	    "with --plugin 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n");
}

/* Long options that are probe options, by the key they set. */
static const struct {
	const char *flag, *key;
	int has_arg;
} check_probe_flags[] = {
    {"name", "name", required_argument},
    {"method", "method", required_argument},
    {"header", "header", required_argument},
    {"body", "body", required_argument},
    {"body-file", "body_file", required_argument},
    {"expect", "expect", required_argument},
    {"match", "match", required_argument},
    {"not-match", "not_match", required_argument},
    {"follow", "follow", required_argument},
    {"insecure", "insecure", no_argument},
    {"ca", "ca", required_argument},
    {"host", "host", required_argument},
    {"sni", "sni", required_argument},
    {"http-version", "http_version", required_argument},
    {"max-body", "max_body", required_argument},
    {"count", "count", required_argument},
    {"interval", "interval", required_argument},
    {"size", "size", required_argument},
    {"ttl", "ttl", required_argument},
};
#define CHECK_NFLAGS (sizeof(check_probe_flags) / sizeof(check_probe_flags[0]))
#define CHECK_FLAG_BASE 1000
#define CHECK_SHORTOPTS "f:qh46"

static int
add_probe_option(struct check_opts *o, const char *key, const char *value)
{
	if (o->nprobe == CHECK_OPTIONS_MAX) {
		log_errorx("too many options");
		return -1;
	}
	o->probe[o->nprobe].key = key;
	o->probe[o->nprobe++].value = value;
	return 0;
}

/* --warning or --critical SPEC. */
static int
threshold_flag(const char *name, const char *spec, struct check_limit *l)
{
	char why[160];

	if (check_limit_parse(spec, l, why, sizeof(why)) == -1) {
		log_errorx("--%s %s: %s", name, spec, why);
		return -1;
	}
	return 0;
}

static int
check_common_option(int ch, struct check_opts *o, int *help)
{
	switch (ch) {
	case 'T':
		return duration_flag("timeout", optarg, USEC_PER_MSEC,
		    3600 * USEC_PER_SEC, &o->run.timeout_us);
	case 'f':
		if (strcmp(optarg, "json") != 0 &&
		    strcmp(optarg, "text") != 0) {
			log_errorx("--format %s: unknown format (supported: "
			           "text, json)",
			    optarg);
			return -1;
		}
		o->json = strcmp(optarg, "json") == 0;
		o->format = 1;
		return 0;
	case 'q':
		o->quiet = 1;
		log_set_level(LOG_LEVEL_ERROR);
		return 0;
	case 'U':
		o->run.user = optarg;
		return 0;
	case 'N':
		o->run.no_sandbox = true;
		return 0;
	case '4':
	case '6':
		return add_probe_option(o, "ipv", ch == '4' ? "4" : "6");
	case 'W':
		return threshold_flag("warning", optarg, &o->th.warning);
	case 'C':
		return threshold_flag("critical", optarg, &o->th.critical);
	case 'P':
		o->plugin = 1;
		return 0;
	case 'h':
		*help = 1;
		return 0;
	}
	return -1;
}

/* The long options: the probe flags, then those of check itself. */
static const struct option *
check_longopts(void)
{
	static struct option longopts[CHECK_NFLAGS + 10];
	size_t i;

	for (i = 0; i < CHECK_NFLAGS; i++)
		longopts[i] = (struct option){check_probe_flags[i].flag,
		    check_probe_flags[i].has_arg, NULL,
		    CHECK_FLAG_BASE + (int)i};
	longopts[i++] =
	    (struct option){"timeout", required_argument, NULL, 'T'};
	longopts[i++] = (struct option){"format", required_argument, NULL, 'f'};
	longopts[i++] = (struct option){"quiet", no_argument, NULL, 'q'};
	longopts[i++] = (struct option){"user", required_argument, NULL, 'U'};
	longopts[i++] = (struct option){"no-sandbox", no_argument, NULL, 'N'};
	longopts[i++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[i++] =
	    (struct option){"warning", required_argument, NULL, 'W'};
	longopts[i++] =
	    (struct option){"critical", required_argument, NULL, 'C'};
	longopts[i++] = (struct option){"plugin", no_argument, NULL, 'P'};
	longopts[i] = (struct option){NULL, 0, NULL, 0};
	return longopts;
}

/*
 * Whether --plugin is given, read as getopt_long() reads it, before any
 * option is acted on: from the first error on, the output is a plugin's.
 */
static int
check_wants_plugin(int argc, char **argv)
{
	const struct option *longopts = check_longopts();
	char **copy = xcalloc((size_t)argc + 1, sizeof(*copy));
	int ch, plugin = 0;

	/*
	 * On a copy: getopt_long() moves arguments, and so changes what a
	 * second reading finds, as the target for a last --timeout.
	 */
	memcpy(copy, argv, (size_t)argc * sizeof(*copy));
	opterr = 0;
	optind = 1;
	/* "--plugin=x" is a plugin's mistake, to say as a plugin. */
	while ((ch = getopt_long(argc, copy, CHECK_SHORTOPTS, longopts,
	            NULL)) != -1)
		plugin |= ch == 'P' || (ch == '?' && optopt == 'P');
	opterr = 1;
	free(copy);
	return plugin;
}

/* What getopt_long() would say of the option it rejected, were it heard. */
static void
check_bad_option(char **argv, const struct option *lo)
{
	const char *arg = argv[optind - 1];
	size_t n = strncmp(arg, "--", 2) == 0 ? strcspn(arg + 2, "=") : 0;

	if (optopt == 0) {
		log_errorx("unknown option %.*s", (int)strcspn(arg, "="), arg);
		return;
	}
	for (; n > 0 && lo->name != NULL; lo++)
		if (lo->val == optopt && strncmp(arg + 2, lo->name, n) == 0) {
			log_errorx("option --%s %s", lo->name,
			    arg[2 + n] == '=' ? "takes no value"
			                      : "needs a value");
			return;
		}
	if (optopt > 0 && optopt < 128 && strchr(CHECK_SHORTOPTS, optopt))
		log_errorx("option -%c needs a value", optopt);
	else if (optopt > 0 && optopt < 128)
		log_errorx("unknown option -%c", optopt);
	else
		log_errorx("bad option %s", arg);
}

static int
check_parse_args(int argc, char **argv, struct check_opts *o, int *help)
{
	const struct option *longopts = check_longopts();
	int ch;

	/* A plugin's errors go to its status line, not to stderr. */
	opterr = !o->plugin;
	optind = 1;
	while ((ch = getopt_long(argc, argv, CHECK_SHORTOPTS, longopts,
	            NULL)) != -1) {
		if (ch >= CHECK_FLAG_BASE &&
		    ch < CHECK_FLAG_BASE + (int)CHECK_NFLAGS) {
			if (add_probe_option(o,
			        check_probe_flags[ch - CHECK_FLAG_BASE].key,
			        optarg) == -1)
				return -1;
			continue;
		}
		if (ch == '?' && o->plugin)
			check_bad_option(argv, longopts);
		if (check_common_option(ch, o, help) == -1)
			return -1;
		if (*help)
			return 0;
	}
	return 0;
}

/* The one target, with every flag applied as its line's option. */
static int
check_target(const char *spec, const struct check_opts *o,
    struct target_list *list)
{
	struct target t;
	char why[512];
	size_t i;

	memset(&t, 0, sizeof(t));
	if (target_parse_spec(spec, &t, why, sizeof(why)) == -1)
		goto bad;
	for (i = 0; i < o->nprobe; i++)
		if (target_apply_option(&t, o->probe[i].key, o->probe[i].value,
		        why, sizeof(why)) == -1)
			goto bad;
	if (target_check(&t, why, sizeof(why)) == -1)
		goto bad;
	target_list_push(list, &t);
	return 0;
bad:
	log_errorx("%s: %s", t.spec != NULL ? t.spec : "target", why);
	target_clear(&t);
	return -1;
}

static int
check_print(struct check_opts *o, const struct target *t,
    const struct result *r)
{
	json_object *obj;
	char why[512];

	o->state = check_evaluate(t, r, &o->th, why, sizeof(why));
	if (o->quiet)
		return 0;
	if (o->plugin)
		check_plugin_write(stdout, t, r, &o->th, o->run.timeout_us);
	else if (o->json) {
		obj = output_json_result(t, r, o->run.timeout_us);
		if (check_thresholds_set(&o->th))
			check_threshold_json(obj, t, r, &o->th);
		puts(json_object_to_json_string_ext(obj,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		        JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(obj);
	} else if (check_thresholds_set(&o->th))
		check_threshold_text(stdout, t, r, &o->th, o->run.timeout_us);
	else
		check_text_write(stdout, t, r, o->run.timeout_us);
	return fflush(stdout) == EOF ? -1 : 0;
}

/* Options, target and thresholds: 0 to probe, or -1 to exit with *rc. */
static int
check_setup(int argc, char **argv, struct check_opts *o,
    struct target_list *list, int *rc)
{
	enum target_kind kind;
	char why[256];

	*rc = EXIT_USAGE;
	if (check_parse_args(argc, argv, o, &o->help) == -1) {
		cmd_check_usage(stderr);
		return -1;
	}
	if (o->help) {
		cmd_check_usage(stdout);
		*rc = EXIT_UP;
		return -1;
	}
	if (argc - optind != 1) {
		log_errorx("%s",
		    argc == optind ? "no target given"
		                   : "one target only (pulse scan takes many)");
		cmd_check_usage(stderr);
		return -1;
	}
	if (o->plugin && (o->format || o->quiet)) {
		log_errorx("--plugin prints its own output: leave out --format "
		           "and --quiet");
		return -1;
	}
	if (check_target(argv[optind], o, list) == -1)
		return -1;
	kind = list->v[0].kind;
	if (check_thresholds_check(&o->th, kind, why, sizeof(why)) == -1) {
		log_errorx("%s", why);
		return -1;
	}
	return 0;
}

/* Probe the target and print the verdict; the exit status. */
static int
check_probe(struct check_opts *o, struct target_list *list)
{
	struct batch b;
	struct result r;
	int rc;

	memset(&b, 0, sizeof(b));
	o->run.grace_us = 0;
	result_init(&r);
	if ((rc = batch_run(&b, list, &o->run)) < 0) {
		rc = rc == -2 ? EXIT_USAGE : EXIT_INTERNAL;
		goto out;
	}
	result_store_get(&b.results, 0, &r);
	if (b.signo != 0 && o->plugin)
		rc = 128 + b.signo; /* no verdict: the plugin says UNKNOWN */
	else if (check_print(o, &list->v[0], &r) == -1)
		rc = EXIT_INTERNAL;
	else if (b.signo != 0)
		rc = 128 + b.signo;
	else
		rc = r.success && o->state != CHECK_CRITICAL ? EXIT_UP
		                                             : EXIT_DOWN;
out:
	result_release(&r);
	batch_free(&b);
	return rc;
}

/* A plugin's exit status; UNKNOWN, said on stdout, when there is no verdict. */
static int
check_plugin_status(const struct check_opts *o, int rc, char *errors)
{
	char why[64];

	if (o->help)
		return CHECK_UNKNOWN;
	if (rc == EXIT_UP || rc == EXIT_DOWN)
		return (int)o->state;
	errors[strcspn(errors, "\n")] = '\0';
	if (rc > 128)
		snprintf(why, sizeof(why), "interrupted by signal %d",
		    rc - 128);
	else
		snprintf(why, sizeof(why), "internal error");
	check_plugin_unknown(stdout, *errors != '\0' ? errors : why);
	fflush(stdout);
	return CHECK_UNKNOWN;
}

int
cmd_check(int argc, char **argv)
{
	struct check_opts o;
	struct target_list list;
	char errors[512] = "";
	int rc, muted = -1;

	memset(&o, 0, sizeof(o));
	memset(&list, 0, sizeof(list));
	log_set_level(LOG_LEVEL_WARN);
	o.run.workers = 1;
	o.run.timeout_us = CHECK_DEFAULT_TIMEOUT_US;
	check_thresholds_init(&o.th);
	/* A plugin says all on one line of stdout, its errors too. */
	if ((o.plugin = check_wants_plugin(argc, argv))) {
		log_set_level(LOG_LEVEL_ERROR);
		log_capture(errors, sizeof(errors));
		muted = check_plugin_mute();
	}
	if (check_setup(argc, argv, &o, &list, &rc) == 0) {
		check_plugin_unmute(muted);
		muted = -1;
		rc = check_probe(&o, &list);
	}
	check_plugin_unmute(muted);
	opterr = 1;
	target_list_free(&list);
	if (o.plugin) {
		log_capture(NULL, 0);
		rc = check_plugin_status(&o, rc, errors);
	}
	return rc;
}
