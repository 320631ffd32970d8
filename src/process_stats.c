/* What the running process costs, for the process_* metrics of /metrics. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "process_stats.h"

/* Resident and virtual size from /proc/self/statm, in pages. */
static void
read_statm(struct process_stats *ps)
{
	unsigned long long size, resident;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f;

	if (page <= 0 || (f = fopen("/proc/self/statm", "re")) == NULL)
		return;
	if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
		ps->virtual_bytes = (uint64_t)size * (uint64_t)page;
		ps->resident_bytes = (uint64_t)resident * (uint64_t)page;
	}
	fclose(f);
}

/* Entries of /proc/self/fd, less the one opendir(3) holds to list them. */
static int64_t
count_fds(void)
{
	struct dirent *de;
	int64_t n = 0;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;
}

void
process_stats_read(struct process_stats *ps)
{
	struct rusage ru;
	struct rlimit rl;

	ps->cpu_seconds = 0;
	ps->resident_bytes = ps->virtual_bytes = UINT64_MAX;
	ps->max_fds = -1;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		ps->cpu_seconds = (double)ru.ru_utime.tv_sec +
		    (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec +
		        (double)ru.ru_stime.tv_usec) /
		        1e6;
	read_statm(ps);
	ps->open_fds = count_fds();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		ps->max_fds = (int64_t)rl.rlim_cur;
}
