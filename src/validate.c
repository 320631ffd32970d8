/* "pulse validate": check a targets file and show what it would probe. */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "shard.h"
#include "target.h"
#include "util.h"

/* What scan and check use when neither the target nor --timeout says. */
#define VALIDATE_DEFAULT_TIMEOUT_US (5 * USEC_PER_SEC)

void
cmd_validate_usage(FILE *f)
{
	fprintf(f,
	    "usage: pulse validate [-q] [--shard K/N] FILE\n"
	    "\n"
	    "Check a targets file and show what pulse would probe: one line\n"
	    "per target, then their number.  FILE is YAML when it ends in\n"
	    ".yaml or .yml, else the line format; - reads stdin.\n"
	    "\n"
	    "  -q, --quiet      print only errors\n"
	    "      --shard K/N  show only the targets of shard K of N, and "
	    "how\n"
	    "                   many of all (auto/N: K from the host name)\n"
	    "  -h, --help       show this help\n"
	    "\n"
	    "Exit status: 0 good, 2 when the file has an error or no "
	    "target.\n");
}

/*
 * A value as the line format would write it, quoted when it must be;
 * control characters, which no targets file can carry, show as '?'.
 */
static void
print_value(FILE *f, const char *s)
{
	bool quote = *s == '\0' || strpbrk(s, " \t\"'\\#") != NULL;
	const char *p;

	if (quote)
		putc('"', f);
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			putc('?', f);
			continue;
		}
		if (quote && (*p == '"' || *p == '\\'))
			putc('\\', f);
		putc(*p, f);
	}
	if (quote)
		putc('"', f);
}

/* KIND  CANONICAL  name=NAME  timeout=DUR  [every=DUR]  [{labels}] */
static void
print_target(FILE *f, const struct target *t)
{
	char canon[TARGET_CANONICAL_MAX], d[32];
	unsigned i;

	target_canonical(t, canon, sizeof(canon));
	fprintf(f, "%-4s  ", target_kind_name(t->kind));
	print_value(f, canon);
	fputs("  name=", f);
	print_value(f, target_name(t));
	duration_format(t->timeout_us > 0 ? t->timeout_us
	                                  : VALIDATE_DEFAULT_TIMEOUT_US,
	    d, sizeof(d));
	fprintf(f, "  timeout=%s", d);
	if (t->every_us > 0) {
		duration_format(t->every_us, d, sizeof(d));
		fprintf(f, "  every=%s", d);
	}
	for (i = 0; i < t->nlabels; i++) {
		fprintf(f, "%s%s=", i == 0 ? "  {" : ", ", t->labels[i].name);
		print_value(f, t->labels[i].value);
	}
	fputs(t->nlabels > 0 ? "}\n" : "\n", f);
}

static int
validate_parse_args(int argc, char **argv, bool *quiet, struct shard *shard,
    int *help)
{
	static const struct option longopts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"shard", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char why[512];
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			*quiet = true;
			log_set_level(LOG_LEVEL_ERROR);
			break;
		case 'S':
			if (shard_parse(optarg, shard, why, sizeof(why)) ==
			    -1) {
				log_errorx("--shard: %s", why);
				return -1;
			}
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

int
cmd_validate(int argc, char **argv)
{
	struct target_list list;
	struct shard shard = {0, 0};
	const char *path;
	bool quiet = false;
	int help = 0, rc;
	size_t i, total;

	if (validate_parse_args(argc, argv, &quiet, &shard, &help) == -1) {
		cmd_validate_usage(stderr);
		return EXIT_USAGE;
	}
	if (help) {
		cmd_validate_usage(stdout);
		return EXIT_UP;
	}
	if (argc - optind != 1) {
		log_errorx("validate takes one FILE");
		cmd_validate_usage(stderr);
		return EXIT_USAGE;
	}
	path = argv[optind];
	memset(&list, 0, sizeof(list));
	rc = target_load_any(path, &list);
	if (rc == 0 && list.n == 0) {
		log_errorx("%s: no targets", path);
		rc = -1;
	}
	total = shard_filter(&shard, &list);
	if (!quiet) {
		for (i = 0; i < list.n; i++)
			print_target(stdout, &list.v[i]);
		if (shard.count > 0)
			printf("%zu of %zu target%s in shard %u/%u\n", list.n,
			    total, total == 1 ? "" : "s", shard.index,
			    shard.count);
		else
			printf("%zu target%s\n", list.n,
			    list.n == 1 ? "" : "s");
	}
	target_list_free(&list);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_error("stdout");
		return EXIT_INTERNAL;
	}
	return rc == -1 ? EXIT_USAGE : EXIT_UP;
}
