// Command go-blackbox-driver probes targets through a blackbox_exporter for
// the pulse benchmark, as Prometheus does: one GET /probe?target=T&module=M
// per probe, with the scrape timeout in X-Prometheus-Scrape-Timeout-Seconds,
// the answer searched for "probe_success 1".  The probing is the exporter's;
// the driver only asks, over one keep-alive client, from a fixed pool of
// goroutines.
//
// Without --rate it asks once per target, as fast as the pool goes, and
// prints the summary the other peers print.  With --rate R --duration S it
// stands in for a Prometheus server scraping every target at a fixed
// interval: the targets in turn, R a second, evenly spaced, for S seconds
// (so each once per targets/R seconds).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxAnswer bounds the exporter's answer read: a probe's metrics are a few
// KiB.
const maxAnswer = 1 << 20

type summary struct {
	Total   int            `json:"total"`
	Up      int            `json:"up"`
	Down    int            `json:"down"`
	Seconds float64        `json:"seconds"`
	Errors  map[string]int `json:"errors"` // why targets were down
}

// paced is the summary of a paced run.
type paced struct {
	Targets    int            `json:"targets"`
	Rate       float64        `json:"rate"`
	Interval   float64        `json:"interval"` // seconds between two probes of a target
	Duration   float64        `json:"duration"`
	Sent       int            `json:"sent"`
	Up         int            `json:"up"`
	Down       int            `json:"down"`
	Late       int            `json:"late"` // started over --late-ms after their due time
	MaxLateMs  float64        `json:"max_late_ms"`
	Seconds    float64        `json:"seconds"`
	CPUSeconds float64        `json:"cpu_seconds"` // the driver's own
	Errors     map[string]int `json:"errors"`
}

type job struct {
	target string
	due    time.Time
}

// tally is one worker's count, merged when the workers are done.
type tally struct {
	sent, up, late int
	maxLate        time.Duration
	errors         map[string]int
}

type driver struct {
	client  *http.Client
	probe   string // the exporter's /probe URL, without a query
	module  string
	timeout time.Duration
	header  string // the scrape timeout in seconds, as Prometheus sends it
}

// reason names why a request failed, without the URL and addresses.
func reason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// gauge returns the value of an unlabelled sample in a text exposition.
func gauge(body []byte, name string) (string, bool) {
	prefix := []byte(name + " ")
	for _, line := range bytes.Split(body, []byte("\n")) {
		if bytes.HasPrefix(line, prefix) {
			return string(bytes.TrimSpace(line[len(prefix):])), true
		}
	}
	return "", false
}

// verdict returns "" if the exporter says the probe succeeded, else why not.
func verdict(body []byte) string {
	v, ok := gauge(body, "probe_success")
	switch {
	case !ok:
		return "no probe_success"
	case v == "1":
		return ""
	}
	if v, ok := gauge(body, "probe_failed_due_to_regex"); ok && v == "1" {
		return "body does not match"
	}
	if v, ok := gauge(body, "probe_http_status_code"); ok && v != "0" &&
		!strings.HasPrefix(v, "2") {
		return "status " + v
	}
	return "probe failed"
}

// ask has the exporter probe t; it returns "" if it succeeded, else why not.
func (d *driver) ask(t string) string {
	// The exporter answers by the scrape timeout; the second is for the
	// answer to reach us.
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout+time.Second)
	defer cancel()
	q := url.Values{"target": {t}, "module": {d.module}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		d.probe+"?"+q.Encode(), nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", d.header)
	resp, err := d.client.Do(req)
	if err != nil {
		return reason(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return reason(err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("exporter status %d", resp.StatusCode)
	}
	return verdict(body)
}

// work runs the jobs it is given; late is how late a start may be before
// it counts.
func (d *driver) work(jobs <-chan job, late time.Duration, t *tally) {
	for j := range jobs {
		if !j.due.IsZero() {
			if l := time.Since(j.due); l > late {
				t.late++
				if l > t.maxLate {
					t.maxLate = l
				}
			}
		}
		t.sent++
		if why := d.ask(j.target); why == "" {
			t.up++
		} else {
			t.errors[why]++
		}
	}
}

// run starts n workers, feeds them with feed, and returns their merged
// tally once every job is done.
func (d *driver) run(n int, late time.Duration, feed func(chan<- job)) tally {
	jobs := make(chan job)
	tallies := make([]tally, n)
	var wg sync.WaitGroup
	for i := range tallies {
		tallies[i].errors = map[string]int{}
		wg.Add(1)
		go func(t *tally) {
			defer wg.Done()
			d.work(jobs, late, t)
		}(&tallies[i])
	}
	feed(jobs)
	close(jobs)
	wg.Wait()

	all := tally{errors: map[string]int{}}
	for _, t := range tallies {
		all.sent += t.sent
		all.up += t.up
		all.late += t.late
		if t.maxLate > all.maxLate {
			all.maxLate = t.maxLate
		}
		for why, k := range t.errors {
			all.errors[why] += k
		}
	}
	return all
}

// target reads one line's target: a URL (its match= is the module's
// business), host:port, or a bare address, with an optional tcp:// or
// icmp:// prefix.  It returns the pattern of a match= option too.
func target(fields []string) (string, string, error) {
	t := fields[0]
	if strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
		match := ""
		for _, f := range fields[1:] {
			key, value, ok := strings.Cut(f, "=")
			if !ok || key != "match" {
				return "", "", fmt.Errorf("unsupported option %q", f)
			}
			if n := len(value); n >= 2 && (value[0] == '\'' || value[0] == '"') &&
				value[n-1] == value[0] {
				value = value[1 : n-1]
			}
			match = value
		}
		return t, match, nil
	}
	if len(fields) > 1 {
		return "", "", fmt.Errorf("unsupported option %q", fields[1])
	}
	if strings.HasPrefix(t, "tcp://") {
		t = strings.TrimPrefix(t, "tcp://")
		if _, _, err := net.SplitHostPort(t); err != nil {
			return "", "", err
		}
	}
	return strings.TrimPrefix(t, "icmp://"), "", nil
}

// readTargets reads one target per line, skipping blank lines and '#'
// comments.  The module holds the one pattern HTTP targets are matched
// against, so targets with different ones are refused.
func readTargets(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var targets []string
	patterns := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		t, match, err := target(fields)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		patterns[match] = true
		targets = append(targets, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, errors.New(path + ": no targets")
	}
	if len(patterns) > 1 {
		return nil, errors.New(path + ": targets with different match= patterns")
	}
	return targets, nil
}

// probeURL checks that the exporter is on loopback and returns its /probe URL.
func probeURL(exporter string) (string, error) {
	u, err := url.Parse(exporter)
	if err != nil {
		return "", err
	}
	ip := net.ParseIP(u.Hostname())
	if u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return "", errors.New("--exporter: expected http://LOOPBACK-ADDRESS:PORT")
	}
	return strings.TrimSuffix(u.String(), "/") + "/probe", nil
}

func newClient(n int, gzip bool) *http.Client {
	// No Proxy: the exporter is on loopback, whatever the environment
	// says.  As Prometheus does, keep connections to the exporter open
	// and, unless told not to, accept a gzipped answer.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{}).DialContext,
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  !gzip,
	}
	return &http.Client{Transport: tr}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// once asks about every target once and prints the peers' summary.
func once(d *driver, targets []string, n int) int {
	start := time.Now()
	t := d.run(n, 0, func(jobs chan<- job) {
		for _, tg := range targets {
			jobs <- job{target: tg}
		}
	})
	s := summary{Total: len(targets), Up: t.up, Down: t.sent - t.up,
		Seconds: time.Since(start).Seconds(), Errors: t.errors}
	if err := json.NewEncoder(os.Stdout).Encode(s); err != nil {
		return 3
	}
	if s.Down > 0 {
		return 1
	}
	return 0
}

// pace asks about the targets in turn, rate a second, for duration, each
// start due at a fixed time.  Starts fall behind only when every worker is
// busy; then they go as soon as one is free, as a Prometheus scrape loop
// runs its next scrape at once when the last ran over.
func pace(d *driver, targets []string, n int, rate, duration float64,
	late time.Duration) int {
	slots := int(rate * duration)
	start := time.Now()
	t := d.run(n, late, func(jobs chan<- job) {
		for i := 0; i < slots; i++ {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if w := time.Until(due); w > 0 {
				time.Sleep(w)
			}
			jobs <- job{target: targets[i%len(targets)], due: due}
		}
	})
	p := paced{
		Targets:    len(targets),
		Rate:       rate,
		Interval:   float64(len(targets)) / rate,
		Duration:   duration,
		Sent:       t.sent,
		Up:         t.up,
		Down:       t.sent - t.up,
		Late:       t.late,
		MaxLateMs:  float64(t.maxLate.Microseconds()) / 1000,
		Seconds:    time.Since(start).Seconds(),
		CPUSeconds: cpuSeconds(),
		Errors:     t.errors,
	}
	if err := json.NewEncoder(os.Stdout).Encode(p); err != nil {
		return 3
	}
	if p.Down > 0 {
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go-blackbox-driver --targets FILE --exporter URL --module M"+
		" [--workers N] [--timeout SECONDS]\n"+
		"       [--gzip=false] [--rate PER-SECOND --duration SECONDS [--late-ms MS]]")
	os.Exit(2)
}

func main() {
	targetsPath := flag.String("targets", "", "targets file, one per line")
	workers := flag.Int("workers", 64, "concurrent requests to the exporter")
	timeout := flag.Float64("timeout", 5, "scrape timeout in seconds")
	exporter := flag.String("exporter", "", "the exporter, http://127.0.0.1:PORT")
	module := flag.String("module", "", "the exporter's module")
	rate := flag.Float64("rate", 0, "paced: probes a second (0: each target once, at once)")
	duration := flag.Float64("duration", 0, "paced: seconds to run")
	lateMs := flag.Float64("late-ms", 100, "paced: a start later than this counts as late")
	gzip := flag.Bool("gzip", true, "ask for gzipped answers, as Prometheus does")
	flag.Parse()
	if *targetsPath == "" || *module == "" || *workers < 1 || *timeout <= 0 ||
		*rate < 0 || (*rate > 0) != (*duration > 0) || *lateMs < 0 ||
		flag.NArg() > 0 {
		usage()
	}
	probe, err := probeURL(*exporter)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-blackbox-driver:", err)
		os.Exit(2)
	}
	targets, err := readTargets(*targetsPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-blackbox-driver:", err)
		os.Exit(2)
	}

	d := &driver{client: newClient(*workers, *gzip), probe: probe, module: *module,
		timeout: time.Duration(*timeout * float64(time.Second)),
		header:  strconv.FormatFloat(*timeout, 'f', -1, 64)}
	if *rate > 0 {
		os.Exit(pace(d, targets, *workers, *rate, *duration,
			time.Duration(*lateMs*float64(time.Millisecond))))
	}
	os.Exit(once(d, targets, *workers))
}
