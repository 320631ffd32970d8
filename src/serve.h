/*
 * "pulse serve": targets probed on a schedule by a long-lived pool, their
 * latest results and pulse's own counters served over HTTP.  Shared by
 * serve.c (command, reload, shutdown), serve_schedule.c (timers and
 * results), serve_http.c (endpoints) and serve_metrics.c (/metrics).
 */
#ifndef PULSE_SERVE_H
#define PULSE_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "allowlist.h"
#include "result.h"
#include "shard.h"
#include "target.h"

struct event;
struct event_base;
struct sup;
struct serve_http;
struct config_modules;
struct evhttp_request;
struct probe_pending;

/*
 * When the schedule wakes, a probe due within a hundredth of its interval,
 * and at most this long (µs), starts with the one that woke it, that much
 * early: a thousand probes a second then cost twenty wake-ups of each
 * process, not a thousand.
 */
#define SERVE_COALESCE_MAX_US 50000
#define SERVE_BUCKETS 12

/* A Prometheus histogram with fixed bounds. */
struct histogram {
	const double *bounds; /* SERVE_BUCKETS - 1 finite bounds, then +Inf */
	uint64_t counts[SERVE_BUCKETS];
	double sum;
	uint64_t count;
};

/* One target under watch.  Its address never changes while it lives. */
struct srv_target {
	struct target t;
	struct serve *srv;
	uint64_t key_hash;
	size_t heap_at; /* its place in srv->heap, SIZE_MAX: not scheduled */
	int64_t interval_us;
	int64_t due_us;       /* the slot of the next probe, monotonic */
	int64_t slot_wall_us; /* the slot of the probe in flight, wall clock */
	struct result last;   /* the latest result, when has_result */
	bool has_result;
	bool in_flight;
	bool removed; /* dropped by a reload; freed once idle */
	int state;    /* -1 not probed yet, 0 down, 1 up */
	uint64_t successes, failures, skipped;
	struct target *update; /* new name, labels...: applied when idle */
};

struct serve_opts {
	const char *targets_file;
	bool yaml;           /* --config: always YAML */
	const char *listen;  /* "ADDR:PORT" or ":PORT" */
	int64_t interval_us; /* for targets without every= */
	int64_t timeout_us;  /* for targets without timeout= */
	int64_t grace_us;
	unsigned workers;
	unsigned parallel; /* TCP or HTTP probes a worker runs at once */
	const char *user;
	bool enable_reload;
	bool no_sandbox;        /* workers without seccomp */
	bool enable_probe;      /* /probe?target=&module= */
	struct allowlist allow; /* where /probe may go */
	struct shard shard;     /* --shard; count 0 when not given */
};

/* /probe's answers, counted by status code. */
enum probe_code { PROBE_200, PROBE_400, PROBE_403, PROBE_503, PROBE_CODES };

struct serve {
	struct serve_opts opts;
	struct event_base *base;
	struct sup *sup;
	struct serve_http *http;
	struct srv_target **v; /* live targets, in file order */
	size_t n;
	size_t nzombies; /* removed, still in flight */
	/* The schedule: targets by their next slot, and one timer for all */
	struct srv_target **heap;
	size_t nheap, heap_cap;
	struct event *tick;
	bool draining;
	int signo;
	char signame[16];
	/* pulse's own metrics */
	struct histogram duration[4]; /* by target kind */
	struct histogram delay;       /* slot to start */
	uint64_t skipped;
	uint64_t reloads_ok, reloads_failed;
	/* /probe */
	struct config_modules *modules; /* of the file loaded, or NULL */
	struct probe_pending *pending;  /* probes asked for, not answered */
	unsigned npending;
	uint64_t probe_replies[PROBE_CODES];
	bool last_reload_ok;
	int64_t last_reload_ok_s;
	double started_s; /* Unix time, for process_start_time_seconds */
};

/* serve_schedule.c */
struct srv_target *srv_target_new(struct serve *, struct target *t);
/* Set up the schedule of srv (its one timer); free it with the rest. */
void srv_schedule_init(struct serve *);
void srv_schedule_free(struct serve *);
/* Schedule v[first..n), their first slots spread evenly. */
void srv_schedule_spread(struct serve *, size_t first);
void srv_target_stop(struct srv_target *);
/* Take a new name, labels or interval a reload left, when idle. */
void srv_target_take_update(struct srv_target *);
/* Free it now, in flight or not (at exit). */
void srv_target_destroy(struct srv_target *);
/* Free it now, or once its probe in flight has answered. */
void srv_target_retire(struct srv_target *);
void srv_on_result(void *arg, uint64_t id, const struct target *,
    const struct result *);
void histogram_init(struct histogram *, const double *bounds);
void histogram_add(struct histogram *, double);

/* serve_metrics.c: the whole /metrics page. */
int serve_metrics_write(FILE *, const struct serve *);

/* serve_http.c */
/* "ADDR:PORT", "[V6]:PORT" or ":PORT" (addr ""): 0, or -1 if malformed. */
int serve_listen_parse(const char *, char *addr, size_t len, unsigned *port);
struct serve_http *serve_http_start(struct serve *, const char *listen,
    char *errbuf, size_t errlen);
/* The next scrape renders a new page (after a reload). */
void serve_http_invalidate(struct serve_http *);
/* A short text/plain answer. */
void serve_http_reply_text(struct evhttp_request *, int code,
    const char *reason, const char *text);
/* Stop answering: close the listener and every connection. */
void serve_http_stop(struct serve_http *);

/* serve_probe.c: blackbox_exporter's /probe, probes asked for over HTTP. */
void serve_probe_request(struct serve *, struct evhttp_request *);
/* Results of /probe's probes carry ids with the lowest bit set. */
#define SERVE_PROBE_ID 1U
void serve_probe_on_result(struct serve *, uint64_t id, const struct result *);
/* Answer every waiting request 503: the server is going away. */
void serve_probe_abandon(struct serve *);
/* Free what is left (at exit, the pool gone). */
void serve_probe_free(struct serve *);

/* serve.c: re-read the targets; 0, or -1 with the old ones kept. */
int serve_reload(struct serve *, char *errbuf, size_t errlen);

#endif
