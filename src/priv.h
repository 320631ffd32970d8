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
/* Raise the soft descriptor limit to the hard one: the pool needs many. */
void priv_raise_nofile(void);

#endif
