/* The readable report of one probe: a verdict line and its details. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check_text.h"
#include "util.h"

static double
ms(int64_t us)
{
	return (double)us / 1000.0;
}

static void
put_phase(FILE *f, const char *name, int64_t us, int *first)
{
	if (us < 0)
		return;
	fprintf(f, "%s%s %.1f ms", *first ? "" : ", ", name, ms(us));
	*first = 0;
}

static const char *
version_text(unsigned v)
{
	return v == 10 ? "1.0" : v == 11 ? "1.1" : v == 20 ? "2" : "3";
}

static void
write_http(FILE *f, const struct target *t, const struct result *r)
{
	const struct result_http *h = &r->http;
	char when[40];
	int first = 1;
	int64_t left;

	if (h->status > 0)
		fprintf(f, "  response  HTTP/%s %d, %lld bytes%s\n",
		    version_text(h->version), h->status,
		    (long long)h->content_length,
		    h->body_matched < 0   ? ""
		        : h->body_matched ? ", body matched"
		                          : ", body did not match");
	if (h->redirects > 0)
		fprintf(f, "  redirects %u, to %s\n", h->redirects,
		    h->final_url != NULL ? h->final_url : t->http->canonical);
	fputs("  phases    ", f);
	put_phase(f, "resolve", r->dns_us, &first);
	put_phase(f, "connect", r->connect_us, &first);
	put_phase(f, "tls", h->tls_us, &first);
	put_phase(f, "processing", h->processing_us, &first);
	put_phase(f, "transfer", h->transfer_us, &first);
	fputs(first ? "none reached\n" : "\n", f);
	if (h->tls_version[0] == '\0')
		return;
	fprintf(f, "  tls       %s %s", h->tls_version, h->tls_cipher);
	if (h->cert_not_after > 0) {
		format_rfc3339(h->cert_not_after * USEC_PER_SEC, when,
		    sizeof(when));
		left = h->cert_not_after - (r->start_us / USEC_PER_SEC);
		fprintf(f, ", certificate expires %.10s (%s%lld days)", when,
		    left < 0 ? "expired " : "",
		    (long long)((left < 0 ? -left : left) / 86400));
	}
	fputc('\n', f);
}

static void
write_icmp(FILE *f, const struct result *r)
{
	fprintf(f, "  echo      %u sent, %u received", r->sent, r->received);
	if (r->duplicates > 0)
		fprintf(f, ", %u duplicates", r->duplicates);
	if (r->received > 0)
		fprintf(f, ", rtt min/avg/max %.3f/%.3f/%.3f ms",
		    ms(r->rtt_min_us), ms(r->rtt_avg_us), ms(r->rtt_max_us));
	if (r->reply_ttl >= 0)
		fprintf(f, ", ttl %d", r->reply_ttl);
	fputc('\n', f);
}

void
check_text_write(FILE *f, const struct target *t, const struct result *r,
    int64_t default_timeout_us)
{
	char canon[TARGET_CANONICAL_MAX];

	target_canonical(t, canon, sizeof(canon));
	if (r->success)
		fprintf(f, "UP    %s in %.1f ms\n", canon, ms(r->duration_us));
	else
		fprintf(f, "DOWN  %s: %s: %s (after %.1f ms)\n", canon,
		    reason_name(r->reason), r->error, ms(r->duration_us));
	if (t->name != NULL)
		fprintf(f, "  name      %s\n", t->name);
	if (r->address[0] != '\0')
		fprintf(f, "  address   %s\n", r->address);
	if (t->kind == TARGET_HTTP)
		write_http(f, t, r);
	else if (t->kind == TARGET_ICMP)
		write_icmp(f, r);
	else if (r->connect_us >= 0)
		fprintf(f, "  connect   %.1f ms\n", ms(r->connect_us));
	(void)default_timeout_us;
}
