package fsys

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change, as
// `diff -u`.
const diffContext = 3

// maxEditDistance bounds the Myers search (its trace needs about D² ints).
// Past it the remaining middle is shown as "all removed, all added": still
// a correct diff, only not a minimal one, and such a rewrite is read that
// way anyway.
const maxEditDistance = 2000

type opKind byte

const (
	opEq opKind = iota
	opDel
	opIns
)

type diffOp struct {
	kind opKind
	a, b int // line index in old (opEq, opDel) and new (opEq, opIns)
}

// splitLines splits text into lines that keep their "\n"; a last line
// without one stays different from the same text with one, as in diff.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Diff returns a unified diff of old and new for path, in the format of
// `diff -u --label a/P --label b/P` (P is path without its leading "/"),
// with 3 lines of context. Identical inputs give "".
func Diff(path string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := splitLines(string(old)), splitLines(string(new))
	ops := diffLines(a, b)
	var sb strings.Builder
	label := strings.TrimPrefix(path, "/")
	fmt.Fprintf(&sb, "--- a/%s\n+++ b/%s\n", label, label)
	writeHunks(&sb, a, b, ops)
	return sb.String()
}

// diffLines returns the edit script from a to b: common prefix and suffix
// are matched directly, the middle with Myers' O(ND) algorithm.
func diffLines(a, b []string) []diffOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ops := make([]diffOp, 0, len(a)+len(b))
	for i := 0; i < pre; i++ {
		ops = append(ops, diffOp{opEq, i, i})
	}
	ops = myers(ops, a[pre:len(a)-suf], b[pre:len(b)-suf], pre, pre)
	for i := 0; i < suf; i++ {
		ops = append(ops, diffOp{opEq, len(a) - suf + i, len(b) - suf + i})
	}
	return ops
}

// myers appends the shortest edit script of a to b to ops; offA and offB
// are the positions of a and b in the whole files.
func myers(ops []diffOp, a, b []string, offA, offB int) []diffOp {
	n, m := len(a), len(b)
	maxD := n + m
	if maxD > maxEditDistance {
		maxD = maxEditDistance
	}
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int // trace[d] is v before step d, for k in -d..d
	found := false
	for d := 0; d <= maxD && !found; d++ {
		snap := make([]int, 2*d+1)
		copy(snap, v[off-d:off+d+1])
		trace = append(trace, snap)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: insert b[y]
			} else {
				x = v[off+k-1] + 1 // right: delete a[x]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		for i := range a {
			ops = append(ops, diffOp{opDel, offA + i, -1})
		}
		for j := range b {
			ops = append(ops, diffOp{opIns, -1, offB + j})
		}
		return ops
	}
	// Walk the trace back from (n, m), collecting ops in reverse.
	var rev []diffOp
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		prev := trace[d] // v as it was before step d, indices -d..d map to 0..2d
		get := func(k int) int { return prev[k+d] }
		k := x - y
		var pk int
		if k == -d || (k != d && get(k-1) < get(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := get(pk)
		py := px - pk
		for x > px && y > py {
			x--
			y--
			rev = append(rev, diffOp{opEq, offA + x, offB + y})
		}
		if x == px {
			y--
			rev = append(rev, diffOp{opIns, -1, offB + y})
		} else {
			x--
			rev = append(rev, diffOp{opDel, offA + x, -1})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, diffOp{opEq, offA + x, offB + y})
	}
	for i := len(rev) - 1; i >= 0; i-- {
		ops = append(ops, rev[i])
	}
	return ops
}

// writeHunks groups ops into hunks with diffContext lines around changes;
// changes at most 2*diffContext unchanged lines apart share a hunk.
func writeHunks(sb *strings.Builder, a, b []string, ops []diffOp) {
	for i := 0; i < len(ops); {
		if ops[i].kind == opEq {
			i++
			continue
		}
		start := max(i-diffContext, 0)
		end := i // exclusive end of the last change seen
		for j := i; j < len(ops); j++ {
			if ops[j].kind != opEq {
				end = j + 1
				continue
			}
			if j-end >= 2*diffContext {
				break
			}
		}
		stop := min(end+diffContext, len(ops))
		writeHunk(sb, a, b, ops[start:stop])
		i = stop
	}
}

// hunkRange formats one side of an @@ line as diff does: "l" for one
// line, "l,s" otherwise, and for an empty side the line before it.
func hunkRange(first, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", first)
	case 1:
		return fmt.Sprintf("%d", first+1)
	}
	return fmt.Sprintf("%d,%d", first+1, count)
}

func writeHunk(sb *strings.Builder, a, b []string, ops []diffOp) {
	// Position of the hunk in each file: the first op that has a line on
	// that side, or where the side would be for an empty side.
	firstA, firstB, countA, countB := -1, -1, 0, 0
	for _, op := range ops {
		if op.kind != opIns {
			if firstA < 0 {
				firstA = op.a
			}
			countA++
		}
		if op.kind != opDel {
			if firstB < 0 {
				firstB = op.b
			}
			countB++
		}
	}
	// A side with no lines at all only happens when that file is empty
	// (otherwise context lines would be there), and diff numbers it 0.
	if firstA < 0 {
		firstA = 0
	}
	if firstB < 0 {
		firstB = 0
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(firstA, countA), hunkRange(firstB, countB))
	for _, op := range ops {
		var prefix byte
		var line string
		switch op.kind {
		case opEq:
			prefix, line = ' ', a[op.a]
		case opDel:
			prefix, line = '-', a[op.a]
		case opIns:
			prefix, line = '+', b[op.b]
		}
		sb.WriteByte(prefix)
		if strings.HasSuffix(line, "\n") {
			sb.WriteString(line)
		} else {
			sb.WriteString(line)
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}
