/*
 * The workers' system-call filter.  A worker talks to hosts pulse does not
 * control through libcurl, OpenSSL and the resolver; if one of them is
 * ever made to run code, that code finds a process that can send and
 * receive on sockets and read what its user may read, and nothing else:
 * no exec, no file writes, no new processes, no ptrace, no other process
 * to signal.  Anything outside the list below kills the worker, and the
 * supervisor reports its probe as crashed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox.h"

/* What a worker does with no argument worth checking. */
static const char *const allowed[] = {
    /* memory */
    "brk",
    "mmap",
    "mmap2",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    /* descriptors a worker already holds, and reading files */
    "read",
    "readv",
    "pread64",
    "write",
    "writev",
    "close",
    "close_range",
    "fstat",
    "fstat64",
    "newfstatat",
    "fstatat64",
    "stat",
    "stat64",
    "lstat",
    "statx",
    "lseek",
    "_llseek",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents64",
    "fcntl",
    "fcntl64",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "eventfd2",
    /* sockets */
    "connect",
    "bind",
    "getsockname",
    "getpeername",
    "setsockopt",
    "getsockopt",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "socketpair",
    /* waiting */
    "poll",
    "ppoll",
    "select",
    "_newselect",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "nanosleep",
    "clock_nanosleep",
    "sched_yield",
    /* time, identity, limits */
    "clock_gettime",
    "clock_gettime64",
    "clock_getres",
    "gettimeofday",
    "time",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getuid32",
    "geteuid32",
    "getgid32",
    "getegid32",
    "getrandom",
    "uname",
    "sysinfo",
    "getrusage",
    "getrlimit",
    "prlimit64",
    "setrlimit",
    "ugetrlimit",
    "umask",
    "times",
    "getcwd",
    "sched_getaffinity",
    /* signals and the alarm that bounds a probe */
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigreturn",
    "sigaltstack",
    "alarm",
    "setitimer",
    "getitimer",
    "restart_syscall",
    /* threads (libcurl's resolver) and their end */
    "futex",
    "futex_time64",
    "set_robust_list",
    "get_robust_list",
    "set_tid_address",
    "rseq",
    "membarrier",
    "exit",
    "exit_group",
    "arch_prctl",
};

/* Allow a syscall by name; names this architecture lacks are skipped. */
static int
allow(scmp_filter_ctx ctx, const char *name, unsigned n,
    const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

static int
answer(scmp_filter_ctx ctx, const char *name, int err)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0);
}

/* Calls allowed with some arguments only. */
static int
allow_narrow(scmp_filter_ctx ctx)
{
	/* Files open to read only: no writing, creating or truncating. */
	const struct scmp_arg_cmp rdonly_at = SCMP_A2(SCMP_CMP_MASKED_EQ,
	    O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY);
	const struct scmp_arg_cmp rdonly = SCMP_A1(SCMP_CMP_MASKED_EQ,
	    O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY);
	/* Threads, never a new process. */
	const struct scmp_arg_cmp thread =
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	/* Signals to this process only (abort(), alarm). */
	const struct scmp_arg_cmp self =
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
	struct scmp_arg_cmp arg;
	static const int families[] = {AF_INET, AF_INET6, AF_NETLINK};
	static const unsigned long ioctls[] = {FIONREAD, FIONBIO, FIOCLEX,
	    TCGETS};
	static const int prctls[] = {PR_SET_NAME, PR_GET_NAME, PR_CAPBSET_READ,
	    PR_GET_DUMPABLE};
	size_t i;
	int rc = 0;

	rc |= allow(ctx, "openat", 1, &rdonly_at);
	rc |= allow(ctx, "open", 1, &rdonly);
	rc |= allow(ctx, "clone", 1, &thread);
	rc |= allow(ctx, "kill", 1, &self);
	rc |= allow(ctx, "tgkill", 1, &self);
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		arg = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_EQ,
		    (scmp_datum_t)families[i]);
		rc |= allow(ctx, "socket", 1, &arg);
	}
	for (i = 0; i < sizeof(prctls) / sizeof(prctls[0]); i++) {
		arg = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_EQ,
		    (scmp_datum_t)prctls[i]);
		rc |= allow(ctx, "prctl", 1, &arg);
	}
	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		arg = (struct scmp_arg_cmp)SCMP_A1(SCMP_CMP_EQ, ioctls[i]);
		rc |= allow(ctx, "ioctl", 1, &arg);
	}
	return rc;
}

/*
 * Refusals that libraries expect and survive: glibc's threads fall back
 * from clone3 to clone, the resolver's nscd client to its own lookup.
 */
static int
refuse_gently(scmp_filter_ctx ctx)
{
	int rc = 0;

	rc |= answer(ctx, "clone3", ENOSYS);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	return rc;
}

#ifdef PULSE_SANITIZERS
/* The leak checker stops the world with ptrace when a worker exits. */
static int
allow_sanitizers(scmp_filter_ctx ctx)
{
	static const char *const more[] = {"ptrace", "wait4", "clone",
	    "sched_getparam", "sched_getscheduler", "process_vm_readv"};
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		rc |= allow(ctx, more[i], 0, NULL);
	return rc;
}
#endif

int
sandbox_worker(char *errbuf, size_t errlen)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(errbuf, errlen, "seccomp: cannot make a filter");
		return -1;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc |= allow(ctx, allowed[i], 0, NULL);
	rc |= allow_narrow(ctx);
	rc |= refuse_gently(ctx);
#ifdef PULSE_SANITIZERS
	rc |= allow_sanitizers(ctx);
#endif
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		snprintf(errbuf, errlen, "seccomp: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
