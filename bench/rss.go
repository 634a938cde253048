package main

import (
	"os"
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
