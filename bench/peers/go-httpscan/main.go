// Command go-httpscan is a reference HTTP checker for the pulse benchmark: a
// fixed pool of goroutines fed through a channel, each probe one GET on a
// fresh connection (net/http, keep-alives off) under a per-request context
// timeout, the body then searched with a regular expression.
package main

import (
	"bufio"
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
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxBody is the most body read, as pulse's default max_body.
const maxBody = 1 << 20

// maxRedirects is the most redirects followed, as pulse's default follow=.
const maxRedirects = 5

type summary struct {
	Total   int            `json:"total"`
	Up      int            `json:"up"`
	Down    int            `json:"down"`
	Seconds float64        `json:"seconds"`
	Errors  map[string]int `json:"errors"` // why targets were down
}

type target struct {
	url   string
	match *regexp.Regexp // nil: any body will do
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

// probe returns "" if t answered 2xx with a body that matches, else why not.
func probe(client *http.Client, t target, timeout time.Duration) string {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return reason(err)
	}
	defer resp.Body.Close()
	// One byte past the limit tells a body at the limit from a longer one.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return reason(err)
	}
	if len(body) > maxBody {
		return "body over 1 MiB"
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	if t.match != nil && !t.match.Match(body) {
		return "body does not match"
	}
	return ""
}

// parseLine reads "URL [match=REGEX]"; a value may be quoted '...' or "...".
func parseLine(fields []string, cache map[string]*regexp.Regexp) (target, error) {
	t := target{url: fields[0]}
	u, err := url.Parse(t.url)
	if err != nil {
		return t, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return t, errors.New("expected an http:// URL")
	}
	for _, f := range fields[1:] {
		key, value, ok := strings.Cut(f, "=")
		if !ok || key != "match" {
			return t, fmt.Errorf("unsupported option %q", f)
		}
		if n := len(value); n >= 2 && (value[0] == '\'' || value[0] == '"') &&
			value[n-1] == value[0] {
			value = value[1 : n-1]
		}
		// Targets share a few patterns: compile each once.
		re, ok := cache[value]
		if !ok {
			if re, err = regexp.Compile(value); err != nil {
				return t, err
			}
			cache[value] = re
		}
		t.match = re
	}
	return t, nil
}

// readTargets reads one target per line, skipping blank lines and '#'
// comments.
func readTargets(path string) ([]target, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var targets []target
	cache := map[string]*regexp.Regexp{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		t, err := parseLine(fields, cache)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		targets = append(targets, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, errors.New(path + ": no targets")
	}
	return targets, nil
}

func newClient() *http.Client {
	// No Proxy: requests go straight to the URL's host, whatever the
	// environment says.
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{}).DialContext,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

// scan probes every target with n workers and tallies the outcomes.
func scan(targets []target, n int, timeout time.Duration) summary {
	client := newClient()
	jobs := make(chan target)
	outcomes := make(chan string)
	var wg sync.WaitGroup

	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range jobs {
				if o := probe(client, t, timeout); o != "" {
					outcomes <- o
				}
			}
		}()
	}
	go func() {
		for _, t := range targets {
			jobs <- t
		}
		close(jobs)
		wg.Wait()
		close(outcomes)
	}()

	s := summary{Total: len(targets), Errors: map[string]int{}}
	for o := range outcomes {
		s.Errors[o]++
		s.Down++
	}
	s.Up = s.Total - s.Down
	return s
}

func main() {
	targetsPath := flag.String("targets", "", "targets file, one URL [match=REGEX] per line")
	workers := flag.Int("workers", 64, "concurrent requests")
	timeout := flag.Float64("timeout", 5, "per-request timeout in seconds")
	flag.Parse()
	if *targetsPath == "" || *workers < 1 || *timeout <= 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: go-httpscan --targets FILE [--workers N] [--timeout SECONDS]")
		os.Exit(2)
	}

	targets, err := readTargets(*targetsPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-httpscan:", err)
		os.Exit(2)
	}

	start := time.Now()
	s := scan(targets, *workers, time.Duration(*timeout*float64(time.Second)))
	s.Seconds = time.Since(start).Seconds()
	if err := json.NewEncoder(os.Stdout).Encode(s); err != nil {
		os.Exit(3)
	}
	if s.Down > 0 {
		os.Exit(1)
	}
}
