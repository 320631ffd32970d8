/*
 * Unit tests for sandbox.c: each case runs in a child that loads the
 * worker's filter, then does one thing; the parent reads how it ended.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

/* Exit codes a child uses to say what went wrong before its action. */
#define CHILD_NO_FILTER 90
#define CHILD_WRONG 91

/* Run act in a sandboxed child; its wait status. */
static int
in_sandbox(int (*act)(void))
{
	char why[256];
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (sandbox_worker(why, sizeof(why)) == -1)
			_exit(CHILD_NO_FILTER);
		_exit(act());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
want_exit_zero(int (*act)(void))
{
	int status = in_sandbox(act);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child ended with status %#x", status);
}

static void
want_killed(int (*act)(void))
{
	int status = in_sandbox(act);

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("child not killed by SIGSYS: status %#x", status);
}

static void *
thread_main(void *arg)
{
	return arg;
}

/* What a probe does: sockets, reading a file, a thread, a signal to self. */
static int
act_probe_like(void)
{
	char buf[64];
	pthread_t th;
	void *ret = NULL;
	int fd, s4, s6;

	if ((s4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    (s6 = socket(AF_INET6, SOCK_DGRAM, 0)) == -1)
		return CHILD_WRONG;
	close(s4);
	close(s6);
	if ((fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC)) == -1 ||
	    read(fd, buf, sizeof(buf)) < 0)
		return CHILD_WRONG;
	close(fd);
	if (pthread_create(&th, NULL, thread_main, buf) != 0 ||
	    pthread_join(th, &ret) != 0 || ret != buf)
		return CHILD_WRONG;
	if (kill(getpid(), 0) == -1)
		return CHILD_WRONG;
	return 0;
}

/* Refusals libraries survive: clone3 and nscd's unix socket. */
static int
act_gentle(void)
{
	errno = 0;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return CHILD_WRONG;
	errno = 0;
	if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EACCES)
		return CHILD_WRONG;
	return 0;
}

static int
act_exec(void)
{
	char *argv[] = {"true", NULL};

	execv("/bin/true", argv);
	return CHILD_WRONG;
}

static int
act_write_file(void)
{
	(void)open("/tmp/pulse-sandbox-test", O_WRONLY | O_CREAT, 0600);
	return CHILD_WRONG;
}

static int
act_truncate_file(void)
{
	(void)open("/etc/hosts", O_RDONLY | O_TRUNC);
	return CHILD_WRONG;
}

static int
act_signal_parent(void)
{
	(void)kill(getppid(), 0);
	return CHILD_WRONG;
}

static int
act_packet_socket(void)
{
	(void)socket(AF_PACKET, SOCK_RAW, 0);
	return CHILD_WRONG;
}

static int
act_unlink(void)
{
	(void)unlink("/tmp/pulse-sandbox-test");
	return CHILD_WRONG;
}

#ifndef PULSE_SANITIZERS
static int
act_fork(void)
{
	(void)fork();
	return CHILD_WRONG;
}

static int
act_ptrace(void)
{
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return CHILD_WRONG;
}
#endif

/* A sandboxed worker can still do everything a probe needs. */
static void
test_probe_needs_pass(void **state)
{
	(void)state;
	want_exit_zero(act_probe_like);
}

/* clone3 and unix sockets fail with errors libraries fall back from. */
static void
test_gentle_refusals(void **state)
{
	(void)state;
	want_exit_zero(act_gentle);
}

/* exec, writing or truncating a file, unlinking, signalling another
 * process and packet sockets each kill the worker at once. */
static void
test_forbidden_kill(void **state)
{
	(void)state;
	want_killed(act_exec);
	want_killed(act_write_file);
	want_killed(act_truncate_file);
	want_killed(act_unlink);
	want_killed(act_signal_parent);
	want_killed(act_packet_socket);
#ifndef PULSE_SANITIZERS
	/* The leak checker needs both; sanitizer builds allow them. */
	want_killed(act_fork);
	want_killed(act_ptrace);
#endif
	assert_int_equal(access("/tmp/pulse-sandbox-test", F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_needs_pass),
	    cmocka_unit_test(test_gentle_refusals),
	    cmocka_unit_test(test_forbidden_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
