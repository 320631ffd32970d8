/* Process plumbing: fork a worker on a socketpair, name how one ended. */
#ifndef PULSE_PROC_H
#define PULSE_PROC_H

#include <stddef.h>
#include <sys/types.h>

#define PROC_KEEP_MAX 8 /* descriptors a child may keep besides 0-2 */
#define PROC_SOCKET_BUFFER (512 * 1024) /* each way, when allowed */

/*
 * Fork a child running entry(fd, arg) with one end of a fresh
 * SOCK_SEQPACKET socketpair; the parent gets the other end in *fd.  The
 * child starts with default signal handlers, an empty signal mask and no
 * descriptors but 0-2, its socket and keep[].  Returns the pid or -1.
 */
pid_t proc_spawn(int (*entry)(int fd, void *arg), void *arg, int *fd,
    const int *keep, size_t nkeep);
/* "SIGSEGV", "SIGKILL", ... or "signal 42". */
const char *proc_signame(int sig, char *buf, size_t len);
/* Describe a wait status: "exited with status 3", "killed by SIGSEGV". */
void proc_describe_status(int status, char *buf, size_t len);

#endif
