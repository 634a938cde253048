package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// anonPeak samples the process's anonymous resident memory (RssAnon: the
// heap, stacks and runtime, without file pages such as boltstore's mmap of
// its database, which the kernel can drop) every 50 ms until stop, which
// returns the peak in bytes. VmHWM counts both; the kernel keeps no peak
// of the anonymous part alone.
func anonPeak() (stop func() int64) {
	var (
		mu   sync.Mutex
		peak = statusBytes("RssAnon:")
		done = make(chan struct{})
		wg   sync.WaitGroup
		// dumped is the RssAnon of the last heap profile written.
		dumped int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				v := statusBytes("RssAnon:")
				mu.Lock()
				if v > dumped*5/4 && v > heapAtPeakMin() {
					heapAtPeak(v)
					dumped = v
				}
				peak = max(peak, v)
				mu.Unlock()
			}
		}
	}()
	return func() int64 {
		close(done)
		wg.Wait()
		return max(peak, statusBytes("RssAnon:"))
	}
}

// heapAtPeak writes a heap profile to $IDBRIDGE_BENCH_HEAP_AT_PEAK (when
// set) each time the anonymous memory grows by a quarter past 256 MiB:
// the cumulative profile written at the end hides a short spike.
func heapAtPeak(rss int64) {
	path := os.Getenv("IDBRIDGE_BENCH_HEAP_AT_PEAK")
	if path == "" {
		return
	}
	f, err := os.Create(fmt.Sprintf("%s.%dMiB.pprof", path, rss>>20))
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup("heap").WriteTo(f, 0)
}

// heapAtPeakMin is where heapAtPeak starts ($IDBRIDGE_BENCH_HEAP_AT_PEAK_MIB,
// default 256 MiB).
func heapAtPeakMin() int64 {
	if n, err := strconv.ParseInt(os.Getenv("IDBRIDGE_BENCH_HEAP_AT_PEAK_MIB"), 10, 64); err == nil && n > 0 {
		return n << 20
	}
	return 256 << 20
}

// statusBytes returns a "kB" field of /proc/self/status in bytes (0 when
// unknown).
func statusBytes(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// majorFaults returns the process's major page faults so far (pages read
// from disk: for boltstore, its memory-mapped file), from /proc/self/stat;
// -1 where there is none.
func majorFaults() int64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count from the last ')'. majflt is field 12, the 10th after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 10 {
		return -1
	}
	n, err := strconv.ParseInt(f[9], 10, 64)
	if err != nil {
		return -1
	}
	return n
}
