/* Privileges: who workers run as, and the descriptors the pool needs. */
#ifndef PULSE_PRIV_H
#define PULSE_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Decide the identity workers switch to.  Started as root: user (or
 * "pulse", falling back to "nobody" with a warning); otherwise *drop is
 * false and workers keep ours.  Returns -1 when a named user is unknown.
 */
int priv_worker_identity(const char *user, bool *drop, uid_t *uid, gid_t *gid);
/*
 * Switch to uid/gid for good (supplementary groups too), and make sure
 * root cannot be had back.  0, or -1 with errno.  Nothing to do when the
 * process is uid/gid already.
 */
int priv_drop(uid_t uid, gid_t gid);
/* Clear every capability, ambient ones included; 0 or -1. */
int priv_clear_caps(void);
/*
 * The supervisor once its pool and listeners are up: drop to uid/gid when
 * drop is set, clear capabilities, no new privileges, not dumpable.
 * Exits when any of it fails.
 */
void priv_drop_supervisor(bool drop, uid_t uid, gid_t gid);
/*
 * 1 when uid/gid may rename a file of their own over path, in its
 * directory dir; 0 if not, -1 when that cannot be told.
 */
int priv_user_may_replace(const char *dir, const char *path, uid_t uid,
    gid_t gid);
/* Raise the soft descriptor limit to the hard one: the pool needs many. */
void priv_raise_nofile(void);

#endif
