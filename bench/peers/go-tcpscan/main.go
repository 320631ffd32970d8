// Command go-tcpscan is a reference TCP connect scanner for the pulse
// benchmark: a fixed pool of goroutines fed through a channel, each probe a
// net.DialTimeout that is closed as soon as the handshake completes.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

type summary struct {
	Total   int            `json:"total"`
	Up      int            `json:"up"`
	Down    int            `json:"down"`
	Seconds float64        `json:"seconds"`
	Reset   int            `json:"reset"`  // up, but reset before Dial returned
	Errors  map[string]int `json:"errors"` // why targets were down
}

const upReset = "reset"

// probe returns "" if target accepted a connection, upReset if it accepted
// one and reset it at once, else why it is down.  A reset can only reach
// an established connection (a refused SYN is ECONNREFUSED), so the
// handshake did complete.
func probe(target string, timeout time.Duration) string {
	c, err := net.DialTimeout("tcp", target, timeout)
	if err == nil {
		c.Close()
		return ""
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return upReset
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	if oe, ok := err.(*net.OpError); ok {
		return oe.Err.Error() // without the addresses
	}
	return err.Error()
}

// readTargets reads one host:port per line, skipping blank lines and
// '#' comments; only the first field of a line is used.
func readTargets(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var targets []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		t := strings.TrimPrefix(fields[0], "tcp://")
		if _, _, err := net.SplitHostPort(t); err != nil {
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

// scan probes every target with n workers and tallies the outcomes.
func scan(targets []string, n int, timeout time.Duration) summary {
	jobs := make(chan string)
	outcomes := make(chan string)
	var wg sync.WaitGroup

	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range jobs {
				if o := probe(t, timeout); o != "" {
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
		if o == upReset {
			s.Reset++
		} else {
			s.Errors[o]++
			s.Down++
		}
	}
	s.Up = s.Total - s.Down
	return s
}

func main() {
	targetsPath := flag.String("targets", "", "targets file, one host:port per line")
	workers := flag.Int("workers", 64, "concurrent probes")
	timeout := flag.Float64("timeout", 5, "per-probe timeout in seconds")
	flag.Parse()
	if *targetsPath == "" || *workers < 1 || *timeout <= 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: go-tcpscan --targets FILE [--workers N] [--timeout SECONDS]")
		os.Exit(2)
	}

	targets, err := readTargets(*targetsPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-tcpscan:", err)
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
