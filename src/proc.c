/* Fork workers on socketpairs; turn wait statuses into words. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * Close every descriptor the child has no business holding: other
 * workers' sockets, the event loop's, listeners.  close_range() does it
 * in a few calls however many the supervisor holds; without it, walk up
 * to the descriptor limit.
 */
static void
close_inherited(int sock, const int *keep, size_t nkeep)
{
	int kept[PROC_KEEP_MAX + 1], fd, max;
	size_t n = 0, i;

	kept[n++] = sock;
	for (i = 0; i < nkeep && i < PROC_KEEP_MAX; i++)
		if (keep[i] > 2)
			kept[n++] = keep[i];
	qsort(kept, n, sizeof(kept[0]), cmp_int);
	fd = 3;
	for (i = 0; i < n; i++) {
		if (kept[i] > fd &&
		    close_range((unsigned)fd, (unsigned)kept[i] - 1, 0) == -1)
			goto fallback;
		fd = kept[i] + 1;
	}
	if (close_range((unsigned)fd, ~0U, 0) == 0)
		return;
fallback:
	max = (int)sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < max; fd++) {
		for (i = 0; i < n && kept[i] != fd; i++)
			;
		if (i == n)
			close(fd);
	}
}

/* Put every signal back to its default and unblock them all. */
static void
reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Room for a few of the largest messages in flight each way, so a full
 * request never meets EAGAIN.  Root may pass the system's cap; others get
 * what the cap allows, which the default request sizes fit.
 */
static void
widen_buffers(int fd)
{
	int size = PROC_SOCKET_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) ==
	    -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) ==
	    -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
}

pid_t
proc_spawn(int (*entry)(int, void *), void *arg, int *fd, const int *keep,
    size_t nkeep)
{
	sigset_t all, saved;
	int sv[2], saved_errno;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	widen_buffers(sv[0]);
	widen_buffers(sv[1]);
	/* The child exits through exit(): it must not flush our buffers. */
	fflush(NULL);
	/* No handler may run in the child before it has reset them. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &saved);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		reset_signals();
		close_inherited(sv[1], keep, nkeep);
		exit(entry(sv[1], arg));
	}
	saved_errno = errno;
	sigprocmask(SIG_SETMASK, &saved, NULL);
	close(sv[1]);
	if (pid == -1) {
		close(sv[0]);
		errno = saved_errno;
		return -1;
	}
	*fd = sv[0];
	return pid;
}

const char *
proc_signame(int sig, char *buf, size_t len)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
	    {SIGHUP, "SIGHUP"},
	    {SIGINT, "SIGINT"},
	    {SIGQUIT, "SIGQUIT"},
	    {SIGILL, "SIGILL"},
	    {SIGTRAP, "SIGTRAP"},
	    {SIGABRT, "SIGABRT"},
	    {SIGBUS, "SIGBUS"},
	    {SIGFPE, "SIGFPE"},
	    {SIGKILL, "SIGKILL"},
	    {SIGUSR1, "SIGUSR1"},
	    {SIGSEGV, "SIGSEGV"},
	    {SIGUSR2, "SIGUSR2"},
	    {SIGPIPE, "SIGPIPE"},
	    {SIGALRM, "SIGALRM"},
	    {SIGTERM, "SIGTERM"},
	    {SIGCHLD, "SIGCHLD"},
	    {SIGCONT, "SIGCONT"},
	    {SIGSTOP, "SIGSTOP"},
	    {SIGTSTP, "SIGTSTP"},
	    {SIGXCPU, "SIGXCPU"},
	    {SIGXFSZ, "SIGXFSZ"},
	    {SIGVTALRM, "SIGVTALRM"},
	    {SIGPROF, "SIGPROF"},
	    {SIGSYS, "SIGSYS"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].sig == sig) {
			snprintf(buf, len, "%s", names[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "signal %d", sig);
	return buf;
}

void
proc_describe_status(int status, char *buf, size_t len)
{
	char name[32];

	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s%s",
		    proc_signame(WTERMSIG(status), name, sizeof(name)),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "stopped (status %#x)", status);
}
