/* Counts over a scan's results, shared by every output format. */
#include "config.h"

#include <string.h>

#include "scan_report.h"

void
scan_report_count(const struct scan_report *rep, struct scan_counts *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->total = rep->n;
	for (i = 0; i < rep->n; i++) {
		if (rep->results[i].success)
			c->up++;
		else if (rep->results[i].reason == REASON_CANCELLED)
			c->cancelled++;
		else
			c->down++;
	}
}
