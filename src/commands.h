/* The commands behind "pulse COMMAND": each returns the process exit code. */
#ifndef PULSE_COMMANDS_H
#define PULSE_COMMANDS_H

#include <stdio.h>

/* Exit codes, documented in pulse(8). */
#define EXIT_UP 0       /* every target up */
#define EXIT_DOWN 1     /* at least one target down */
#define EXIT_USAGE 2    /* bad command line or targets file */
#define EXIT_INTERNAL 3 /* pulse itself failed */

int cmd_scan(int argc, char **argv);
void cmd_scan_usage(FILE *);
int cmd_check(int argc, char **argv);
void cmd_check_usage(FILE *);
int cmd_validate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
void cmd_serve_usage(FILE *);
void cmd_validate_usage(FILE *);

#endif
