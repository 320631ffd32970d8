/* Replace a file atomically: temp file beside it, fsync, rename. */
#ifndef PULSE_ATOMIC_FILE_H
#define PULSE_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/types.h>

struct atomic_file;

/* Open a temp file next to path; NULL with errno set on failure. */
struct atomic_file *atomic_file_open(const char *path);
FILE *atomic_file_stream(struct atomic_file *);
const char *atomic_file_path(const struct atomic_file *);
/* Give the temp file to uid/gid, who will commit it; 0 or -1. */
int atomic_file_chown(struct atomic_file *, uid_t uid, gid_t gid);
/* Flush, fsync, rename over path, fsync the directory; 0 or -1. */
int atomic_file_commit(struct atomic_file *);
/* Remove the temp file and free. */
void atomic_file_abort(struct atomic_file *);

#endif
