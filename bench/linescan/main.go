// Command linescan is the floor bench/traffic.sh compares the collector
// with: it finds every line of a file, nothing else, the way the collector
// reads a log (one goroutine per CPU, each mapping its share of the file
// 4 MiB at a time and stepping from newline to newline with
// bytes.IndexByte). Any collector in Go that looks at every line costs at
// least this; it prints the lines found and the seconds it took.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: linescan FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	lines, took, err := scan(flag.Arg(0), runtime.GOMAXPROCS(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "linescan:", err)
		os.Exit(1)
	}
	fmt.Printf("%d lines in %.6f s\n", lines, took.Seconds())
}

const window = 4 << 20

func scan(path string, workers int) (int64, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size := fi.Size()
	page := int64(os.Getpagesize())
	start := time.Now()
	counts := make([]int64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Page-aligned shares; a line across a boundary is counted by
			// the share its newline is in, so the total is exact.
			from := size * int64(w) / int64(workers) &^ (page - 1)
			to := size * int64(w+1) / int64(workers) &^ (page - 1)
			if w == workers-1 {
				to = size
			}
			for pos := from; pos < to; pos += window {
				end := min(pos+window, to)
				m, err := syscall.Mmap(int(f.Fd()), pos, int(end-pos), syscall.PROT_READ, syscall.MAP_SHARED)
				if err != nil {
					errs[w] = err
					return
				}
				_ = syscall.Madvise(m, syscall.MADV_SEQUENTIAL)
				for b := m; ; {
					i := bytes.IndexByte(b, '\n')
					if i < 0 {
						break
					}
					counts[w]++
					b = b[i+1:]
				}
				if err := syscall.Munmap(m); err != nil {
					errs[w] = err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	took := time.Since(start)
	var n int64
	for w := range counts {
		if errs[w] != nil {
			return 0, 0, errs[w]
		}
		n += counts[w]
	}
	return n, took, nil
}
