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
	"time"
)

type summary struct {
	Total   int     `json:"total"`
	Up      int     `json:"up"`
	Down    int     `json:"down"`
	Seconds float64 `json:"seconds"`
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

// scan probes every target with n workers and returns how many were up.
func scan(targets []string, n int, timeout time.Duration) int {
	jobs := make(chan string)
	ups := make(chan int, n)
	var wg sync.WaitGroup

	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			up := 0
			for t := range jobs {
				c, err := net.DialTimeout("tcp", t, timeout)
				if err == nil {
					c.Close()
					up++
				}
			}
			ups <- up
		}()
	}
	for _, t := range targets {
		jobs <- t
	}
	close(jobs)
	wg.Wait()
	close(ups)

	up := 0
	for u := range ups {
		up += u
	}
	return up
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
	up := scan(targets, *workers, time.Duration(*timeout*float64(time.Second)))
	s := summary{
		Total:   len(targets),
		Up:      up,
		Down:    len(targets) - up,
		Seconds: time.Since(start).Seconds(),
	}
	if err := json.NewEncoder(os.Stdout).Encode(s); err != nil {
		os.Exit(3)
	}
	if s.Down > 0 {
		os.Exit(1)
	}
}
