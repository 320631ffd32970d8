/* Counts over a scan's results, shared by every output format. */
#include "config.h"

#include <string.h>

#include "scan_report.h"

const struct result *
scan_report_result(const struct scan_report *rep, size_t i, struct result *tmp)
{
	if (rep->results != NULL)
		return &rep->results[i];
	result_release(tmp);
	result_store_get(rep->store, i, tmp);
	return tmp;
}

void
scan_report_count(const struct scan_report *rep, struct scan_counts *c)
{
	struct result tmp;
	const struct result *r;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->total = rep->n;
	result_init(&tmp);
	for (i = 0; i < rep->n; i++) {
		r = scan_report_result(rep, i, &tmp);
		if (r->success)
			c->up++;
		else if (r->reason == REASON_CANCELLED)
			c->cancelled++;
		else
			c->down++;
	}
	result_release(&tmp);
}
