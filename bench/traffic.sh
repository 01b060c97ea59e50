#!/usr/bin/env bash
# Benchmark of the traffic collector (STA-3, issue 5): how fast does
# `kontor stats collect` read a month of access logs, compared with reading
# the file (cat, the ceiling) and with GoAccess (an established log
# analyser) on the same file?
#
# It generates a vhost_combined log of LINES lines (default 2,000,000) over
# VHOSTS vhosts (default 1,000) in one month, and a store in which every
# vhost's domain belongs to a user, all in a temporary directory that is
# removed at the end (nothing generated lands in the repository). The file
# is read once first, so all of them read it from the page cache. Two
# references show what "vs cat" can reach: `wc -l`, which only counts
# newlines, and bench/linescan, which only finds every line the way the
# collector reads (the floor of the collector's design). Each tool
# runs RUNS times (default 3; GoAccess once, it is slow) and the fastest
# run counts; the collector starts each run from a fresh copy of the store
# (cold offsets). It prints MB/s for each, the ratios, and the collector's
# peak memory.
#
# It also prints a floor for "vs cat": the collector run on a log of one
# line per vhost, port and day taken from the big one ("store only"),
# which yields the same cells and so the same writes to the store, plus
# linescan's time. Start-up, the cells and the store, and finding the
# lines are what this collector pays besides parsing the other lines: the
# floor is the ratio it would reach if those cost nothing.
#
# Usage: bench/traffic.sh            (LINES=… VHOSTS=… RUNS=… to change)
# Needs: go, goaccess and GNU time (/usr/bin/time); the two Debian packages
# goaccess and time are installed with apt-get when missing.
set -euo pipefail

LINES=${LINES:-2000000}
VHOSTS=${VHOSTS:-1000}
RUNS=${RUNS:-3}

cd "$(dirname "$0")/.."

install_missing() {
	local missing=()
	command -v goaccess >/dev/null 2>&1 || missing+=(goaccess)
	[[ -x /usr/bin/time ]] || missing+=(time)
	if ((${#missing[@]} == 0)); then return 0; fi
	echo "installing ${missing[*]} (apt-get)" >&2
	local sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
		{ "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
}
install_missing

work=$(mktemp -d "${TMPDIR:-/tmp}/kontor-traffic-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/access.log

echo "building kontor and generating $LINES lines over $VHOSTS vhosts in $work" >&2
go build -o "$work/kontor" ./cmd/kontor
go build -o "$work/linescan" ./bench/linescan
go run ./bench/trafficgen --lines "$LINES" --vhosts "$VHOSTS" --log "$log" --db "$work/seed.db" >&2
bytes=$(stat -c %s "$log")
# One line per vhost:port and day ($5 is "[dd/Mon/yyyy:…").
awk '{ k = $1 " " substr($5, 2, 11); if (!(k in seen)) { seen[k] = 1; print } }' "$log" >"$work/cells.log"
cells_lines=$(wc -l <"$work/cells.log")
cat "$log" >/dev/null # into the page cache

# now prints the time in nanoseconds.
now() { date +%s%N; }

# mbs BYTES NANOSECONDS prints MB/s (MB = 2^20 bytes).
mbs() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.1f", b / 1048576 / (ns / 1e9) }'; }

best_cat=
for ((i = 0; i < RUNS; i++)); do
	t0=$(now)
	cat "$log" >/dev/null
	t=$(($(now) - t0))
	if [[ -z $best_cat ]] || ((t < best_cat)); then best_cat=$t; fi
done

# wc -l only counts the newlines: the least any reader of lines does, in
# one thread. It is printed as a reference for what "vs cat" can reach.
best_wc=
for ((i = 0; i < RUNS; i++)); do
	t0=$(now)
	wc -l "$log" >/dev/null
	t=$(($(now) - t0))
	if [[ -z $best_wc ]] || ((t < best_wc)); then best_wc=$t; fi
done

# bench/linescan finds every line the way the collector reads (a goroutine
# per CPU, mapped windows, bytes.IndexByte) and does nothing else: the
# floor of any collector in Go that looks at every line.
best_scan=
for ((i = 0; i < RUNS; i++)); do
	t0=$(now)
	"$work/linescan" "$log" >/dev/null
	t=$(($(now) - t0))
	if [[ -z $best_scan ]] || ((t < best_scan)); then best_scan=$t; fi
done

echo "running GoAccess (about a minute per GB)" >&2
t0=$(now)
goaccess "$log" --log-format=VCOMBINED --no-global-config --no-progress -o "$work/goaccess.html" >/dev/null 2>"$work/goaccess.err" || {
	cat "$work/goaccess.err" >&2
	exit 1
}
best_goaccess=$(($(now) - t0))

best_kontor=
peak_kb=0
for ((i = 0; i < RUNS; i++)); do
	cp "$work/seed.db" "$work/run.db"
	rm -f "$work/run.db-wal" "$work/run.db-shm"
	t0=$(now)
	/usr/bin/time -v -o "$work/time.txt" "$work/kontor" stats collect --log "$log" --db "$work/run.db" >"$work/collect.txt"
	t=$(($(now) - t0))
	if [[ -z $best_kontor ]] || ((t < best_kontor)); then best_kontor=$t; fi
	kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
	if ((kb > peak_kb)); then peak_kb=$kb; fi
done
best_store=
for ((i = 0; i < RUNS; i++)); do
	cp "$work/seed.db" "$work/run.db"
	rm -f "$work/run.db-wal" "$work/run.db-shm"
	t0=$(now)
	"$work/kontor" stats collect --log "$work/cells.log" --db "$work/run.db" >"$work/cells.txt"
	t=$(($(now) - t0))
	if [[ -z $best_store ]] || ((t < best_store)); then best_store=$t; fi
done
users=$(awk '/^users with traffic:/ { print $4 }' "$work/collect.txt")
if ! grep -q "^users with traffic: $users\$" "$work/cells.txt"; then
	echo "the one-line-per-cell log did not give the same users:" >&2
	cat "$work/collect.txt" "$work/cells.txt" >&2
	exit 1
fi
if ! grep -q "read 1 log: $LINES lines" "$work/collect.txt"; then
	echo "the collector did not read every line:" >&2
	cat "$work/collect.txt" >&2
	exit 1
fi

cat_mbs=$(mbs "$bytes" "$best_cat")
wc_mbs=$(mbs "$bytes" "$best_wc")
scan_mbs=$(mbs "$bytes" "$best_scan")
goaccess_mbs=$(mbs "$bytes" "$best_goaccess")
kontor_mbs=$(mbs "$bytes" "$best_kontor")
echo "log: $LINES lines, $VHOSTS vhosts, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MB; $(nproc) CPUs"
printf 'cat:      %8s MB/s  (%.3f s)\n' "$cat_mbs" "$(awk -v ns="$best_cat" 'BEGIN { print ns / 1e9 }')"
printf 'wc -l:    %8s MB/s  (%.3f s, newlines only: %.2fx cat)\n' "$wc_mbs" "$(awk -v ns="$best_wc" 'BEGIN { print ns / 1e9 }')" "$(awk -v a="$best_cat" -v b="$best_wc" 'BEGIN { printf "%.2f", a / b }')"
printf 'linescan: %8s MB/s  (%.3f s, every line found, nothing else, %d threads: %.2fx cat)\n' "$scan_mbs" "$(awk -v ns="$best_scan" 'BEGIN { print ns / 1e9 }')" "$(nproc)" "$(awk -v a="$best_cat" -v b="$best_scan" 'BEGIN { printf "%.2f", a / b }')"
printf 'goaccess: %8s MB/s  (%.3f s)\n' "$goaccess_mbs" "$(awk -v ns="$best_goaccess" 'BEGIN { print ns / 1e9 }')"
printf 'kontor:   %8s MB/s  (%.3f s, store included)\n' "$kontor_mbs" "$(awk -v ns="$best_kontor" 'BEGIN { print ns / 1e9 }')"
echo "vs goaccess: $(awk -v a="$best_goaccess" -v b="$best_kontor" 'BEGIN { printf "%.1f", a / b }')x"
echo "vs cat: $(awk -v a="$best_cat" -v b="$best_kontor" 'BEGIN { printf "%.2f", a / b }')x"
echo "vs wc -l: $(awk -v a="$best_wc" -v b="$best_kontor" 'BEGIN { printf "%.2f", a / b }')x"
echo "vs linescan: $(awk -v a="$best_scan" -v b="$best_kontor" 'BEGIN { printf "%.2f", a / b }')x"
echo "peak memory of the collector: $((peak_kb / 1024)) MB (Maximum resident set size)"
floor=$((best_scan + best_store))
printf 'store only: %.3f s (the collector on the same cells, one line each: %d lines)\n' "$(awk -v ns="$best_store" 'BEGIN { print ns / 1e9 }')" "$cells_lines"
printf 'floor:      %.3f s (linescan + store only: the other lines parsed for free)\n' "$(awk -v ns="$floor" 'BEGIN { print ns / 1e9 }')"
echo "floor vs cat: $(awk -v a="$best_cat" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')x"
