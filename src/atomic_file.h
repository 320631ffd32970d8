/* Replace a file atomically: temp file beside it, fsync, rename. */
#ifndef PULSE_ATOMIC_FILE_H
#define PULSE_ATOMIC_FILE_H

#include <stdio.h>

struct atomic_file;

/* Open a temp file next to path; NULL with errno set on failure. */
struct atomic_file *atomic_file_open(const char *path);
FILE *atomic_file_stream(struct atomic_file *);
/* Flush, fsync, rename over path, fsync the directory; 0 or -1. */
int atomic_file_commit(struct atomic_file *);
/* Remove the temp file and free. */
void atomic_file_abort(struct atomic_file *);

#endif
