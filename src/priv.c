/*
 * Privileges: the identity pulse runs as once started, giving up root and
 * every capability for good, and the descriptor limit the pool needs.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

#define PRIV_DEFAULT_USER "pulse"
#define PRIV_FALLBACK_USER "nobody"

int
priv_worker_identity(const char *user, bool *drop, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	*drop = false;
	if (geteuid() != 0)
		return 0;
	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			log_errorx("--user %s: no such user", user);
			return -1;
		}
	} else if ((pw = getpwnam(PRIV_DEFAULT_USER)) == NULL) {
		log_warnx("no user '%s': workers run as '%s' (give --user, "
		          "or create '%s')",
		    PRIV_DEFAULT_USER, PRIV_FALLBACK_USER, PRIV_DEFAULT_USER);
		if ((pw = getpwnam(PRIV_FALLBACK_USER)) == NULL) {
			log_errorx("neither '%s' nor '%s' exists: give --user",
			    PRIV_DEFAULT_USER, PRIV_FALLBACK_USER);
			return -1;
		}
	}
	if (pw->pw_uid == 0) {
		log_errorx("--user %s is root: workers would keep every "
		           "privilege",
		    pw->pw_name);
		return -1;
	}
	*drop = true;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

void
priv_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
priv_drop(uid_t uid, gid_t gid)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	/* A worker respawned by a supervisor that already dropped. */
	if (getresuid(&r, &e, &s) == 0 && getresgid(&rg, &eg, &sg) == 0 &&
	    r == uid && e == uid && s == uid && rg == gid && eg == gid &&
	    sg == gid)
		return 0;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return -1;
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("regained root after dropping it");
	return 0;
}

int
priv_clear_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	/* Ambient ones first: capset refuses to leave them without a base. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -1;
}

void
priv_drop_supervisor(bool drop, uid_t uid, gid_t gid)
{
	if (drop && priv_drop(uid, gid) == -1)
		fatal("cannot drop privileges");
	if (priv_clear_caps() == -1)
		fatal("cannot clear capabilities");
	/* Not for ptrace or core dumps by anyone of its new uid: its workers. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl");
}

/*
 * Whether the process may rename a file of its own over path in dir: it
 * must write in dir and, where dir is sticky as /tmp is, own what it
 * replaces (or dir).
 */
static bool
may_replace(const char *dir, const char *path)
{
	struct stat d, f;

	if (access(dir, W_OK | X_OK) == -1 || stat(dir, &d) == -1)
		return false;
	if (!(d.st_mode & S_ISVTX) || d.st_uid == geteuid() ||
	    lstat(path, &f) == -1)
		return true;
	return f.st_uid == geteuid();
}

int
priv_user_may_replace(const char *dir, const char *path, uid_t uid, gid_t gid)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0)
		_exit(
		    priv_drop(uid, gid) == 0 && may_replace(dir, path) ? 0 : 1);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
