/* Write a file so readers see the old version or the new, never half. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "util.h"

struct atomic_file {
	char *path;
	char *tmp;
	FILE *f;
};

struct atomic_file *
atomic_file_open(const char *path)
{
	struct atomic_file *af;
	mode_t mask;
	int fd;

	af = xcalloc(1, sizeof(*af));
	af->path = xstrdup(path);
	xasprintf(&af->tmp, "%s.tmp.XXXXXX", path);
	if ((fd = mkostemp(af->tmp, O_CLOEXEC)) == -1)
		goto fail;
	/* mkstemp makes 0600; give the file what a plain create would. */
	mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	if ((af->f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(af->tmp);
		goto fail;
	}
	return af;
fail:
	free(af->path);
	free(af->tmp);
	free(af);
	return NULL;
}

FILE *
atomic_file_stream(struct atomic_file *af)
{
	return af->f;
}

const char *
atomic_file_path(const struct atomic_file *af)
{
	return af->path;
}

int
atomic_file_chown(struct atomic_file *af, uid_t uid, gid_t gid)
{
	return fchown(fileno(af->f), uid, gid);
}

/* fsync the directory so the rename itself survives a crash. */
static void
sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

int
atomic_file_commit(struct atomic_file *af)
{
	int saved;

	if (fflush(af->f) == EOF || ferror(af->f) ||
	    fsync(fileno(af->f)) == -1) {
		saved = errno;
		atomic_file_abort(af);
		errno = saved;
		return -1;
	}
	if (fclose(af->f) == EOF) {
		af->f = NULL;
		saved = errno;
		atomic_file_abort(af);
		errno = saved;
		return -1;
	}
	af->f = NULL;
	if (rename(af->tmp, af->path) == -1) {
		saved = errno;
		atomic_file_abort(af);
		errno = saved;
		return -1;
	}
	sync_dir(af->path);
	free(af->path);
	free(af->tmp);
	free(af);
	return 0;
}

void
atomic_file_abort(struct atomic_file *af)
{
	if (af == NULL)
		return;
	if (af->f != NULL)
		fclose(af->f);
	unlink(af->tmp);
	free(af->path);
	free(af->tmp);
	free(af);
}
