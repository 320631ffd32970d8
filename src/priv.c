/* Pick the unprivileged identity for workers; size the descriptor limit. */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <sys/resource.h>
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
