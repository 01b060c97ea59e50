package stats

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
)

// Reading: a region of a file is mapped into memory a window at a time
// (parseMapped), or, where the file cannot be mapped, read with one large
// buffer per goroutine (parseRange: pread, so goroutines share the
// descriptor), and handed to the parser in whole lines. A region of an
// Independent format that is large enough is split at line boundaries and
// parsed by several goroutines, each with its own parser, resolver cache
// and tally, merged at the end.

// DefaultBufferSize is the window of the file each goroutine maps at a
// time, or its read buffer: large enough that system calls cost nothing,
// small enough that memory stays bounded whatever the size of the log. A
// line longer than the window is counted as malformed and skipped.
const DefaultBufferSize = 4 << 20

// minSplit is the smallest region worth splitting between goroutines.
const minSplit = 16 << 20

// readOptions tune readRegion.
type readOptions struct {
	workers  int // goroutines for an Independent format
	bufSize  int
	minSplit int64 // minSplit when 0 (tests split small files)
}

// readRegion parses f from start to end (end is the size when the run
// began; bytes appended later are left for the next run). Only whole lines
// are parsed; the offset after the last one is returned, so a half-written
// last line is read next time. With final the file will not grow any more
// (a copy left by copytruncate): an unterminated last line is parsed too.
func readRegion(ctx context.Context, f *os.File, start, end int64, final bool, fm Format, tg *Targets, opt readOptions) (int64, *Tally, error) {
	if opt.bufSize <= 0 {
		opt.bufSize = DefaultBufferSize
	}
	if opt.minSplit <= 0 {
		opt.minSplit = minSplit
	}
	parts := []int64{start, end}
	if opt.workers > 1 && fm.Independent() && end-start >= opt.minSplit {
		var err error
		if parts, err = splitPoints(f, start, end, opt.workers); err != nil {
			return start, nil, err
		}
	}
	n := len(parts) - 1
	tallies := make([]*Tally, n)
	ends := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t := NewTally()
			p := fm.NewParser(NewResolver(tg), t)
			// Every part but the last ends just after a newline.
			last := final && i == n-1
			ends[i], errs[i] = parseMapped(ctx, f, parts[i], parts[i+1], last, p, t, opt.bufSize)
			if errors.Is(errs[i], errNoMap) {
				ends[i], errs[i] = parseRange(ctx, f, parts[i], parts[i+1], last, p, t, make([]byte, opt.bufSize))
			}
			p.Flush()
			tallies[i] = t
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return start, nil, err
	}
	for i := 0; i < n-1; i++ {
		if ends[i] != parts[i+1] {
			// Only when the file shrank under us. The parts after this
			// one were parsed already, so keeping any of it would count
			// their lines again in the next run: the run fails instead,
			// stores nothing, and the next one sees the truncation.
			return start, nil, errShrank
		}
	}
	total := tallies[0]
	for _, t := range tallies[1:] {
		total.Merge(t)
	}
	return ends[n-1], total, nil
}

// splitPoints cuts [start, end) into at most n parts, each but the last
// ending just after a newline.
func splitPoints(f *os.File, start, end int64, n int) ([]int64, error) {
	points := []int64{start}
	buf := make([]byte, 64<<10)
	for k := 1; k < n; k++ {
		p := start + (end-start)*int64(k)/int64(n)
		if p <= points[len(points)-1] {
			continue
		}
		// The part boundary is just after the first newline at or after p.
		for {
			m, err := f.ReadAt(buf, p)
			if i := bytes.IndexByte(buf[:m], '\n'); i >= 0 {
				p += int64(i) + 1
				break
			}
			p += int64(m)
			if err != nil || p >= end {
				p = end
				break
			}
		}
		if p >= end {
			break
		}
		points = append(points, p)
	}
	return append(points, end), nil
}

// parseRange reads [start, end) of f sequentially with buf and hands whole
// lines to p. It returns the offset after the last line parsed.
func parseRange(ctx context.Context, f *os.File, start, end int64, final bool, p Parser, t *Tally, buf []byte) (int64, error) {
	pos := start
	keep := 0         // buf[:keep] is the start of a line continued by the next read
	skipping := false // inside a line longer than buf: dropped as malformed
	reads := 0
	for pos < end {
		if reads++; reads%64 == 0 {
			if err := ctx.Err(); err != nil {
				return start, err
			}
		}
		want := int64(len(buf) - keep)
		if end-pos < want {
			want = end - pos
		}
		m, err := f.ReadAt(buf[keep:keep+int(want)], pos)
		pos += int64(m)
		if err != nil && !errors.Is(err, io.EOF) {
			return start, err
		}
		if m == 0 {
			// The file shrank while we read (truncated): stop here; the
			// next run notices the truncation.
			end = pos
			break
		}
		data := buf[:keep+m]
		if skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				keep = 0
				continue
			}
			skipping = false
			data = data[i+1:]
		}
		last := bytes.LastIndexByte(data, '\n')
		if last < 0 {
			if len(data) == len(buf) {
				// One line fills the whole buffer: no log line is that
				// long. Count it as malformed and skip to its end.
				t.Lines++
				t.Malformed++
				t.Bytes += int64(len(data))
				skipping = true
				keep = 0
				continue
			}
			keep = copy(buf, data)
			continue
		}
		p.Parse(data[:last+1])
		keep = copy(buf, data[last+1:])
	}
	if skipping {
		return pos, nil
	}
	if final && keep > 0 {
		p.Parse(buf[:keep])
		return pos, nil
	}
	return pos - int64(keep), nil
}
