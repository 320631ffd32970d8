/* pulse: a concurrent infrastructure prober.  main() picks the command. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: pulse [-h | --help] [-V | --version] COMMAND [options]\n"
	    "\n"
	    "Commands:\n"
	    "  scan     probe every target once and write the results\n"
	    "  serve    probe targets on a schedule and serve /metrics\n"
	    "  check    probe one target once and say whether it is up\n"
	    "  validate check a targets file and show what it would probe\n"
	    "\n"
	    "Run 'pulse COMMAND --help' for a command's options, and see "
	    "pulse(8).\n");
}

int
main(int argc, char **argv)
{
	log_init("pulse", LOG_LEVEL_WARN);
	/* A closed pipe must be an error we report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_UP;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("pulse %s\n", PULSE_VERSION);
		return EXIT_UP;
	}
	if (strcmp(argv[1], "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 1, argv + 1);
	log_errorx("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
