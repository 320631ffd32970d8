/* Unit tests for atomic_file.c: replace a file whole or not at all. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomic_file.h"

struct fixture {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/pulse-atomic.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/report.json", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	struct dirent *de;
	char p[PATH_MAX * 2];
	DIR *d;

	if ((d = opendir(fx->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", fx->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The whole file as a string; the caller frees it. */
static char *
read_file(const char *path)
{
	static const size_t cap = 65536;
	char *buf = calloc(1, cap);
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(buf);
	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Number of entries in dir other than "." and "..". */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Until commit the old contents stay in place; commit swaps in the new
 * ones and leaves no temp file beside them. */
static void
test_commit_replaces(void **state)
{
	struct fixture *fx = *state;
	struct atomic_file *af;
	char *got;
	FILE *f;

	write_file(fx->path, "old contents\n");
	af = atomic_file_open(fx->path);
	assert_non_null(af);
	f = atomic_file_stream(af);
	assert_non_null(f);
	assert_true(fputs("new contents\n", f) >= 0);
	assert_true(fflush(f) == 0);

	/* A reader still sees the old file while the new one is written. */
	got = read_file(fx->path);
	assert_string_equal(got, "old contents\n");
	free(got);
	assert_int_equal(count_entries(fx->dir), 2);

	assert_int_equal(atomic_file_commit(af), 0);
	got = read_file(fx->path);
	assert_string_equal(got, "new contents\n");
	free(got);
	assert_int_equal(count_entries(fx->dir), 1);
}

/* Commit creates the file when none existed, with a mode others can read
 * under the usual umask. */
static void
test_commit_creates(void **state)
{
	struct fixture *fx = *state;
	struct atomic_file *af;
	struct stat st;
	mode_t old = umask(022);
	char *got;

	af = atomic_file_open(fx->path);
	umask(old);
	assert_non_null(af);
	assert_true(fprintf(atomic_file_stream(af), "{\"n\": %d}\n", 1) > 0);
	assert_int_equal(atomic_file_commit(af), 0);
	got = read_file(fx->path);
	assert_string_equal(got, "{\"n\": 1}\n");
	free(got);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_true((st.st_mode & S_IRUSR) != 0);
	assert_int_equal(count_entries(fx->dir), 1);
}

/* Abort keeps the old file byte for byte and removes the temp file. */
static void
test_abort_keeps_old(void **state)
{
	struct fixture *fx = *state;
	struct atomic_file *af;
	char *got;

	write_file(fx->path, "keep me\n");
	af = atomic_file_open(fx->path);
	assert_non_null(af);
	assert_true(fputs("half-written garbage", atomic_file_stream(af)) >= 0);
	atomic_file_abort(af);
	got = read_file(fx->path);
	assert_string_equal(got, "keep me\n");
	free(got);
	assert_int_equal(count_entries(fx->dir), 1);
}

/* Abort without any previous file leaves the directory empty. */
static void
test_abort_leaves_nothing(void **state)
{
	struct fixture *fx = *state;
	struct atomic_file *af;

	af = atomic_file_open(fx->path);
	assert_non_null(af);
	atomic_file_abort(af);
	assert_int_equal(count_entries(fx->dir), 0);
	assert_int_equal(access(fx->path, F_OK), -1);
}

/* A path in a directory that does not exist fails with errno set. */
static void
test_open_missing_dir(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/no/such/dir/out.json", fx->dir);
	errno = 0;
	assert_null(atomic_file_open(path));
	assert_int_equal(errno, ENOENT);
}

/* Every test here runs between setup() and teardown(). */
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_commit_replaces),
	    TEST(test_commit_creates),
	    TEST(test_abort_keeps_old),
	    TEST(test_abort_leaves_nothing),
	    TEST(test_open_missing_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
