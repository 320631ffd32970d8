/* Unit tests for proc.c: spawning a worker and naming how a child ended. */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc.h"

/* What the child found about itself, sent back over its socket. */
struct child_report {
	int magic;
	int sock_type;    /* SO_TYPE of the socket it was given */
	int stray_open;   /* the parent's extra descriptor */
	int kept_open;    /* the descriptor listed in keep[] */
	int kept_byte;    /* what it read through the kept pipe */
	int term_default; /* SIGTERM disposition is SIG_DFL */
	int int_default;  /* SIGINT disposition is SIG_DFL */
	int mask_empty;   /* no signal blocked */
	int echo;         /* the parent's value, plus one */
};

#define REPORT_MAGIC 0x70756c73

struct child_arg {
	int stray;
	int kept;
};

static int
fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

/* The child side: inspect the process, then answer one request. */
static int
child_entry(int fd, void *arg)
{
	const struct child_arg *ca = arg;
	struct child_report rep;
	struct sigaction sa;
	sigset_t mask;
	socklen_t len = sizeof(rep.sock_type);
	int v;
	char c;

	memset(&rep, 0, sizeof(rep));
	rep.magic = REPORT_MAGIC;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &rep.sock_type, &len) == -1)
		rep.sock_type = -1;
	rep.stray_open = fd_open(ca->stray);
	rep.kept_open = fd_open(ca->kept);
	if (rep.kept_open && read(ca->kept, &c, 1) == 1)
		rep.kept_byte = c;
	rep.term_default =
	    sigaction(SIGTERM, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL;
	rep.int_default =
	    sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL;
	rep.mask_empty = sigprocmask(SIG_SETMASK, NULL, &mask) == 0 &&
	    !sigismember(&mask, SIGUSR1) && !sigismember(&mask, SIGTERM);
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 10;
	rep.echo = v + 1;
	if (write(fd, &rep, sizeof(rep)) != sizeof(rep))
		return 11;
	return 7;
}

/* Wait for a child with a bound: kill it if it will not end by itself. */
static int
reap(pid_t pid)
{
	int status, i;
	pid_t r;

	for (i = 0; i < 500; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		assert_int_equal(r, 0);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fail_msg("child %d did not exit", (int)pid);
	return -1;
}

/* The child gets a SEQPACKET socket to the parent, keeps only keep[],
 * starts with default handlers and an empty mask, and its entry's return
 * value becomes its exit status. */
static void
test_spawn(void **state)
{
	struct sigaction ign, oldterm, oldint;
	sigset_t block, oldmask;
	struct child_report rep;
	struct child_arg ca;
	int stray[2], kept[2], fd = -1, v = 41, status;
	struct pollfd pfd;
	pid_t pid;

	assert_int_equal(pipe(stray), 0);
	assert_int_equal(pipe(kept), 0);
	assert_int_equal(write(kept[1], "K", 1), 1);
	ca.stray = stray[0];
	ca.kept = kept[0];

	/* Give the parent a state that the child must not inherit. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	assert_int_equal(sigaction(SIGTERM, &ign, &oldterm), 0);
	assert_int_equal(sigaction(SIGINT, &ign, &oldint), 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &oldmask), 0);

	pid = proc_spawn(child_entry, &ca, &fd, &kept[0], 1);

	sigaction(SIGTERM, &oldterm, NULL);
	sigaction(SIGINT, &oldint, NULL);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	assert_true(pid > 0);
	assert_true(fd >= 0);

	assert_int_equal(write(fd, &v, sizeof(v)), sizeof(v));
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(read(fd, &rep, sizeof(rep)), sizeof(rep));
	assert_int_equal(rep.magic, REPORT_MAGIC);
	assert_int_equal(rep.sock_type, SOCK_SEQPACKET);
	assert_int_equal(rep.echo, 42);
	assert_false(rep.stray_open);
	assert_true(rep.kept_open);
	assert_int_equal(rep.kept_byte, 'K');
	assert_true(rep.term_default);
	assert_true(rep.int_default);
	assert_true(rep.mask_empty);

	status = reap(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	close(fd);
	close(stray[0]);
	close(stray[1]);
	close(kept[0]);
	close(kept[1]);
}

static int
exit_entry(int fd, void *arg)
{
	return 0;
}

/* The parent's end reads end-of-file once the child is gone: no other
 * process holds the child's end. */
static void
test_spawn_eof_on_exit(void **state)
{
	struct pollfd pfd;
	int fd = -1;
	char buf[8];
	pid_t pid;

	pid = proc_spawn(exit_entry, NULL, &fd, NULL, 0);
	assert_true(pid > 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	assert_int_equal(WEXITSTATUS(reap(pid)), 0);
	close(fd);
}

/* Known signals go by their SIG name; others by number. */
static void
test_signame(void **state)
{
	char buf[32];

	assert_string_equal(proc_signame(SIGSEGV, buf, sizeof(buf)), "SIGSEGV");
	assert_string_equal(proc_signame(SIGKILL, buf, sizeof(buf)), "SIGKILL");
	assert_string_equal(proc_signame(SIGTERM, buf, sizeof(buf)), "SIGTERM");
	assert_string_equal(proc_signame(SIGINT, buf, sizeof(buf)), "SIGINT");
	assert_string_equal(proc_signame(SIGABRT, buf, sizeof(buf)), "SIGABRT");
	assert_string_equal(proc_signame(SIGXCPU, buf, sizeof(buf)), "SIGXCPU");
	assert_string_equal(proc_signame(200, buf, sizeof(buf)), "signal 200");
}

/* Fork a child that ends as told, and return its wait status. */
static int
child_status(int code, int sig)
{
	struct rlimit rl = {0, 0};
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &rl);
		if (sig != 0) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		_exit(code);
	}
	return reap(pid);
}

/* Exit codes and fatal signals read as a user would say them. */
static void
test_describe_status(void **state)
{
	const char *segv = "killed by SIGSEGV";
	char buf[128];

	proc_describe_status(child_status(0, 0), buf, sizeof(buf));
	assert_string_equal(buf, "exited with status 0");
	proc_describe_status(child_status(3, 0), buf, sizeof(buf));
	assert_string_equal(buf, "exited with status 3");
	proc_describe_status(child_status(0, SIGKILL), buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGKILL");
	proc_describe_status(child_status(0, SIGTERM), buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGTERM");
	/* A core dump may be mentioned after the name. */
	proc_describe_status(child_status(0, SIGSEGV), buf, sizeof(buf));
	assert_int_equal(strncmp(buf, segv, strlen(segv)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spawn),
	    cmocka_unit_test(test_spawn_eof_on_exit),
	    cmocka_unit_test(test_signame),
	    cmocka_unit_test(test_describe_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
