/* serve's /metrics: every target's latest result and pulse's own counters. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "output.h"
#include "process_stats.h"
#include "serve.h"
#include "supervisor.h"
#include "util.h"

static void
latest(void *arg, size_t i, const struct target **t, const struct result **r)
{
	const struct serve *srv = arg;
	const struct srv_target *st = srv->v[i];

	*t = &st->t;
	*r = st->has_result ? &st->last : NULL;
}

static void
header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A bound or a sum as Prometheus reads it: "0.005", "+Inf". */
static void
put_double(FILE *f, double v)
{
	fprintf(f, "%.9g", v);
}

static void
put_histogram(FILE *f, const char *name, const char *label, const char *value,
    const struct histogram *h)
{
	uint64_t cum = 0;
	int i;

	for (i = 0; i < SERVE_BUCKETS; i++) {
		cum += h->counts[i];
		fprintf(f, "%s_bucket{", name);
		if (label != NULL)
			fprintf(f, "%s=\"%s\",", label, value);
		fputs("le=\"", f);
		if (i < SERVE_BUCKETS - 1)
			put_double(f, h->bounds[i]);
		else
			fputs("+Inf", f);
		fprintf(f, "\"} %" PRIu64 "\n", cum);
	}
	fprintf(f, "%s_sum", name);
	if (label != NULL)
		fprintf(f, "{%s=\"%s\"}", label, value);
	fputc(' ', f);
	put_double(f, h->sum);
	fprintf(f, "\n%s_count", name);
	if (label != NULL)
		fprintf(f, "{%s=\"%s\"}", label, value);
	fprintf(f, " %" PRIu64 "\n", h->count);
}

/* Per-target counters, for rate() and availability ratios. */
static void
put_probe_counters(FILE *f, const struct serve *srv)
{
	size_t i;

	header(f, "pulse_probes_total", "counter",
	    "Probes of a target that ended, by result.");
	for (i = 0; i < srv->n; i++) {
		fputs("pulse_probes_total", f);
		output_prom_target_labels(f, &srv->v[i]->t, "result",
		    "success");
		fprintf(f, " %" PRIu64 "\n", srv->v[i]->successes);
		fputs("pulse_probes_total", f);
		output_prom_target_labels(f, &srv->v[i]->t, "result",
		    "failure");
		fprintf(f, " %" PRIu64 "\n", srv->v[i]->failures);
	}
}

static void
put_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	header(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void
put_gauge(FILE *f, const char *name, const char *help, int64_t v)
{
	header(f, name, "gauge", help);
	fprintf(f, "%s %" PRId64 "\n", name, v);
}

/*
 * The process_* families every Prometheus exporter has, of the
 * supervisor: the process that answers /metrics, not its workers.
 */
static void
put_process(FILE *f, const struct serve *srv)
{
	struct process_stats ps;

	process_stats_read(&ps);
	header(f, "process_cpu_seconds_total", "counter",
	    "User and system CPU time of the supervisor, in seconds.");
	fprintf(f, "process_cpu_seconds_total %.6f\n", ps.cpu_seconds);
	if (ps.resident_bytes != UINT64_MAX) {
		put_gauge(f, "process_resident_memory_bytes",
		    "Resident memory of the supervisor, in bytes.",
		    (int64_t)ps.resident_bytes);
		put_gauge(f, "process_virtual_memory_bytes",
		    "Virtual memory of the supervisor, in bytes.",
		    (int64_t)ps.virtual_bytes);
	}
	header(f, "process_start_time_seconds", "gauge",
	    "When pulse serve started, in Unix time.");
	fprintf(f, "process_start_time_seconds %.3f\n", srv->started_s);
	if (ps.open_fds >= 0)
		put_gauge(f, "process_open_fds",
		    "File descriptors the supervisor holds open.", ps.open_fds);
	if (ps.max_fds >= 0)
		put_gauge(f, "process_max_fds",
		    "The most file descriptors the supervisor may hold.",
		    ps.max_fds);
}

static void
put_pool(FILE *f, const struct serve *srv)
{
	const struct sup_stats *st = sup_stats(srv->sup);

	put_gauge(f, "pulse_workers", "Worker processes the pool holds.",
	    (int64_t)sup_workers(srv->sup));
	put_gauge(f, "pulse_workers_alive",
	    "Worker processes running now; fewer while one is replaced.",
	    (int64_t)sup_workers_alive(srv->sup));
	put_gauge(f, "pulse_worker_probe_slots",
	    "TCP or HTTP probes the pool can run at once.",
	    (int64_t)sup_workers(srv->sup) * srv->opts.parallel);
	put_counter(f, "pulse_worker_crashes_total",
	    "Workers that died holding a probe.", st->crashes);
	put_counter(f, "pulse_worker_restarts_total",
	    "Workers started again after one ended.", st->respawns);
	put_counter(f, "pulse_deadline_kills_total",
	    "Workers killed past a probe's deadline.", st->deadline_kills);
	put_gauge(f, "pulse_queue_depth", "Probes waiting for a worker.",
	    (int64_t)sup_queued(srv->sup));
	put_gauge(f, "pulse_probes_in_flight", "Probes running now.",
	    (int64_t)sup_inflight(srv->sup));
	put_counter(f, "pulse_schedule_skipped_total",
	    "Slots skipped because the target's last probe still ran.",
	    srv->skipped);
}

static void
put_config(FILE *f, const struct serve *srv)
{
	header(f, "pulse_config_reloads_total", "counter",
	    "Reloads of the targets file, by result.");
	fprintf(f,
	    "pulse_config_reloads_total{result=\"success\"} %" PRIu64 "\n"
	    "pulse_config_reloads_total{result=\"failure\"} %" PRIu64 "\n",
	    srv->reloads_ok, srv->reloads_failed);
	put_gauge(f, "pulse_config_last_reload_successful",
	    "Whether the last load of the targets file worked.",
	    srv->last_reload_ok ? 1 : 0);
	put_gauge(f, "pulse_config_last_reload_success_timestamp_seconds",
	    "When the targets file last loaded well, in Unix time.",
	    srv->last_reload_ok_s);
}

/* /probe: only when it is on, so a plain setup shows nothing of it. */
static void
put_probe_endpoint(FILE *f, const struct serve *srv)
{
	static const char *const codes[PROBE_CODES] = {"200", "400", "403",
	    "503"};
	int c;

	if (!srv->opts.enable_probe)
		return;
	header(f, "pulse_probe_endpoint_requests_total", "counter",
	    "Requests to /probe, by the status code of the answer.");
	for (c = 0; c < PROBE_CODES; c++)
		fprintf(f,
		    "pulse_probe_endpoint_requests_total{code=\"%s\"} %" PRIu64
		    "\n",
		    codes[c], srv->probe_replies[c]);
	put_gauge(f, "pulse_probe_endpoint_in_flight",
	    "Probes asked for over /probe and not answered yet.",
	    (int64_t)srv->npending);
}

/* --shard: only when given, so that a single instance shows nothing of it. */
static void
put_shard(FILE *f, const struct serve *srv)
{
	if (srv->opts.shard.count == 0)
		return;
	header(f, "pulse_shard", "gauge",
	    "1, with the shard of --shard this instance probes.");
	fprintf(f, "pulse_shard{index=\"%u\",count=\"%u\"} 1\n",
	    srv->opts.shard.index, srv->opts.shard.count);
}

int
serve_metrics_write(FILE *f, const struct serve *srv)
{
	static const char *const kinds[] = {NULL, "tcp", "icmp", "http"};
	int k;

	if (output_prom_write_probes(f, srv->n, latest, (void *)srv) == -1)
		return -1;
	header(f, "pulse_build_info", "gauge", "The version of pulse.");
	fputs("pulse_build_info{version=\"", f);
	output_prom_label_value(f, PULSE_VERSION);
	fputs("\"} 1\n", f);
	put_gauge(f, "pulse_targets", "Targets probed on a schedule.",
	    (int64_t)srv->n);
	put_probe_counters(f, srv);
	header(f, "pulse_probe_duration_seconds", "histogram",
	    "How long probes took, by kind.");
	for (k = 1; k < 4; k++)
		put_histogram(f, "pulse_probe_duration_seconds", "kind",
		    kinds[k], &srv->duration[k]);
	header(f, "pulse_schedule_delay_seconds", "histogram",
	    "How late probes started after their slot.");
	put_histogram(f, "pulse_schedule_delay_seconds", NULL, NULL,
	    &srv->delay);
	put_pool(f, srv);
	put_process(f, srv);
	put_config(f, srv);
	put_probe_endpoint(f, srv);
	put_shard(f, srv);
	return ferror(f) ? -1 : 0;
}
