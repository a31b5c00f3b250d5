#!/usr/bin/env bash
# Side-by-side benchmark of gitops-lint against the baseline a platform team
# runs today (../shared/bench/pipeline.sh: `kustomize build` of every overlay
# piped into `kubeconform`), on the largest corpus repository.
#
# It prints median wall times, peak RSS and the ratio (the pipeline's and the
# lint's runs alternate, so both meet the machine in the same mood), and marks the project's
# targets PASS or FAIL (issue 21): lint at least 10x faster than the pipeline,
# --changed-since at most 0.2 s, peak RSS at most 400 MiB on every corpus
# repository and 600 MiB on a 5,000-Kustomization fleet. Then the same side
# by side on the largest corpus repository (by rendered size) and on
# synthetic fleets of 1,000 and 5,000 Kustomizations (scripts/fleet.sh; the
# pipeline runs once on the 1k fleet, and on the 5k one only with
# BENCH_FULL=1: it takes minutes), and the peak RSS of a lint of every
# corpus repository. The result is informational: the script exits 0
# whichever way the targets go, and skips (exit 0) when ../shared is absent,
# as in a user's fresh clone.
#
# Usage: scripts/bench.sh
# Environment:
#   BENCH_REPO          corpus directory to measure (default: ../shared/corpus/onedr0p-home-ops)
#   BENCH_PIPELINE_RUNS runs of the baseline pipeline (default 3)
#   BENCH_RUNS          runs of each gitops-lint command (default 5)
#   JOBS                parallel overlays in the baseline pipeline (default 2, as pipeline.sh)
#   BENCH_LARGEST       the largest corpus repository (default wahooli-gitops-repo)
#   BENCH_FLEETS        synthetic fleet sizes (default "1000 5000"; "" skips them)
#   BENCH_FULL=1        also run the pipeline on the 5k fleet
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$(dirname "$root")/shared"
if [ ! -d "$shared/bench" ] || [ ! -d "$shared/corpus" ]; then
	echo "bench: $shared not found; the shared corpus and baseline tools only exist in the development workspace and CI, skipping"
	exit 0
fi
repo="${BENCH_REPO:-$shared/corpus/onedr0p-home-ops}"
if [ ! -d "$repo" ]; then
	echo "bench: $repo not found, skipping"
	exit 0
fi
pipeline_runs="${BENCH_PIPELINE_RUNS:-3}"
runs="${BENCH_RUNS:-5}"
export JOBS="${JOBS:-2}"

# Progress lines only on a terminal, so that logs stay clean.
progress=0
[ -t 2 ] && progress=1

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# GNU time gives peak RSS (%M); without it, wall time only.
gnutime=""
if [ -x /usr/bin/time ] && /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null; then
	gnutime=/usr/bin/time
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "bench: installing GNU time (apt-get install -y time) for peak RSS" >&2
	if apt-get install -y -qq time >/dev/null 2>&1 && [ -x /usr/bin/time ]; then
		gnutime=/usr/bin/time
	fi
fi
if [ -z "$gnutime" ]; then
	echo "bench: GNU time is not available; measuring wall time only (no peak RSS)" >&2
fi

# now prints the current time in seconds with microseconds.
now() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		printf '%s\n' "${EPOCHREALTIME/,/.}"
	else
		date +%s.%N
	fi
}

# measure OUT CMD...: runs CMD once with its stdout to OUT; appends
# "WALL RSS_KIB EXIT" to $tmp/samples (RSS "-" without GNU time). A failing
# command is measured too: the exit code is reported, not fatal.
measure() {
	local out="$1" start end rc=0 rss="-"
	shift
	start="$(now)"
	if [ -n "$gnutime" ]; then
		"$gnutime" -f '%M' -o "$tmp/rss" "$@" >"$out" 2>"$tmp/stderr" || rc=$?
		# GNU time writes "Command exited with non-zero status N" first on failure.
		rss="$(tail -n 1 "$tmp/rss")"
	else
		"$@" >"$out" 2>"$tmp/stderr" || rc=$?
	fi
	end="$(now)"
	echo "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }') $rss $rc" >>"$tmp/samples"
}

# bench NAME N OUT CMD...: runs CMD N times; sets med (seconds), rss (MiB or
# "-") and codes (distinct exit codes).
bench() {
	local name="$1" n="$2" out="$3" i
	shift 3
	: >"$tmp/samples"
	for ((i = 1; i <= n; i++)); do
		[ "$progress" = 1 ] && printf '\rbench: %s run %d/%d ' "$name" "$i" "$n" >&2
		measure "$out" "$@"
	done
	[ "$progress" = 1 ] && printf '\r\033[K' >&2
	summarize "$name"
}

# summarize NAME: sets med, rss and codes from $tmp/samples.
summarize() {
	local name="$1"
	med="$(cut -d' ' -f1 "$tmp/samples" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
	rss="$(awk '$2 != "-" { if ($2 > m) m = $2; seen = 1 } END { if (seen) printf "%.0f", m / 1024; else print "-" }' "$tmp/samples")"
	codes="$(cut -d' ' -f3 "$tmp/samples" | sort -u | paste -sd, -)"
	if [ "$codes" != 0 ] && [ "$codes" != 1 ]; then
		echo "bench: warning: $name exited with status $codes; last stderr:" >&2
		tail -n 5 "$tmp/stderr" >&2
	fi
}

cd "$root"

# Baseline tools (idempotent: installs only what is missing). Without them
# (say, offline on first use) the pipeline column is skipped.
have_pipeline=1
if ! "$shared/bench/install-tools.sh" >"$tmp/install.log" 2>&1; then
	have_pipeline=0
	echo "bench: could not install the baseline tools; skipping the pipeline measurement:" >&2
	tail -n 5 "$tmp/install.log" >&2
fi

go build -o bin/gitops-lint ./cmd/gitops-lint

# The headline ratio: the pipeline's runs and the lint's alternate, so
# that both meet the same machine (a shared runner's speed drifts by a
# third within minutes).
pipe_med="" pipe_rss="-" pipe_summary=""
: >"$tmp/pipe.samples"
: >"$tmp/lint.samples"
for ((i = 1; i <= (runs > pipeline_runs ? runs : pipeline_runs); i++)); do
	if [ "$have_pipeline" = 1 ] && [ "$i" -le "$pipeline_runs" ]; then
		[ "$progress" = 1 ] && printf '\rbench: pipeline run %d/%d ' "$i" "$pipeline_runs" >&2
		: >"$tmp/samples"
		measure "$tmp/pipeline.out" "$shared/bench/pipeline.sh" "$repo"
		cat "$tmp/samples" >>"$tmp/pipe.samples"
	fi
	if [ "$i" -le "$runs" ]; then
		[ "$progress" = 1 ] && printf '\rbench: gitops-lint lint run %d/%d ' "$i" "$runs" >&2
		: >"$tmp/samples"
		measure "$tmp/lint.out" bin/gitops-lint "$repo"
		cat "$tmp/samples" >>"$tmp/lint.samples"
	fi
done
[ "$progress" = 1 ] && printf '\r\033[K' >&2
if [ "$have_pipeline" = 1 ]; then
	cp "$tmp/pipe.samples" "$tmp/samples"
	summarize "pipeline"
	pipe_med="$med" pipe_rss="$rss"
	pipe_summary="$(tail -n 1 "$tmp/pipeline.out")"
fi
cp "$tmp/lint.samples" "$tmp/samples"
summarize "gitops-lint lint"
lint_med="$med" lint_rss="$rss"
lint_summary="$(tail -n 1 "$tmp/lint.out")"
bench "gitops-lint render" "$runs" /dev/null bin/gitops-lint render "$repo"
render_med="$med" render_rss="$rss"
# Warm persistent cache (--cache-dir): one run fills it, the measured runs
# reuse it; the report must be the one the cold lint wrote.
bin/gitops-lint "$repo" --cache-dir "$tmp/build-cache" >/dev/null 2>&1 || true
bench "gitops-lint lint --cache-dir (warm)" "$runs" "$tmp/warm.out" bin/gitops-lint "$repo" --cache-dir "$tmp/build-cache"
warm_med="$med" warm_rss="$rss"
warm_same="same report as cold"
if ! cmp -s <(sed -E 's/\([0-9.]+m?s\)$//' "$tmp/lint.out") <(sed -E 's/\([0-9.]+m?s\)$//' "$tmp/warm.out"); then
	warm_same="REPORT DIFFERS FROM COLD"
fi

# --changed-since after a one-file change under one app: a git copy of the
# corpus with one commit changing one HelmRelease, linted against HEAD~1.
changed_file="${BENCH_CHANGED_FILE:-kubernetes/apps/default/plex/app/helmrelease.yaml}"
changed_med="" changed_rss="-" changed_summary=""
if [ -f "$repo/$changed_file" ]; then
	cp -R "$repo" "$tmp/changed-repo"
	(
		cd "$tmp/changed-repo"
		export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
		git init -q -b main . && git add -A && git -c user.name=bench -c user.email=bench@invalid commit -qm base
		printf '# bench: a one-line change\n' >>"$changed_file"
		sed -i.orig 's/^\(  interval: \).*/\117m/' "$changed_file" && rm -f "$changed_file.orig"
		git -c user.name=bench -c user.email=bench@invalid commit -qam "change $changed_file"
	)
	bench "gitops-lint --changed-since" "$runs" "$tmp/changed.out" bin/gitops-lint "$tmp/changed-repo" --changed-since HEAD~1
	changed_med="$med" changed_rss="$rss"
	changed_summary="$(tail -n 1 "$tmp/changed.out")"
fi

# The floor under the headline: the same kustomize builds (the kustomization
# files Flux's generator wrote, kustomize alone, wave by wave on every CPU)
# in a warm process (BenchmarkKustomizeAlone, onedr0p only), plus the
# binary's start (`version`: package initialisation). A lint that renders
# as kustomize-controller does cannot take less.
floor_med="" start_med=""
if [ "$(basename "$repo")" = onedr0p-home-ops ]; then
	bench "gitops-lint version" "$runs" /dev/null bin/gitops-lint version
	start_med="$med"
	[ "$progress" = 1 ] && printf '\rbench: kustomize alone (go test -bench) ' >&2
	if go test ./internal/render -run '^$' -bench 'KustomizeAlone/waves' -benchtime 5x -count "$runs" >"$tmp/floor.txt" 2>&1; then
		floor_med="$(awk '/^BenchmarkKustomizeAlone\/waves/ { print $3 / 1e9 }' "$tmp/floor.txt" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
	else
		echo "bench: BenchmarkKustomizeAlone failed:" >&2
		tail -n 5 "$tmp/floor.txt" >&2
	fi
	[ "$progress" = 1 ] && printf '\r\033[K' >&2
fi

# The largest corpus repository, the synthetic fleets and every corpus
# repository's peak RSS.
largest="${BENCH_LARGEST:-wahooli-gitops-repo}"
extra_rows=()
side() { # side LABEL REPO PIPELINE_RUNS LINT_RUNS
	local label="$1" dir="$2" pruns="$3" lruns="$4" p="" pr="-"
	if [ "$have_pipeline" = 1 ] && [ "$pruns" -gt 0 ]; then
		bench "pipeline $label" "$pruns" /dev/null "$shared/bench/pipeline.sh" "$dir"
		p="$med" pr="$rss"
	fi
	bench "lint $label" "$lruns" /dev/null bin/gitops-lint "$dir" --no-config --fail-on never
	local ratio="n/a"
	[ -n "$p" ] && ratio="$(awk -v p="$p" -v r="$med" 'BEGIN { if (r > 0) printf "%.1fx", p / r; else print "inf" }')"
	extra_rows+=("$(printf '  %-30s pipeline %9s %9s   lint %8s %9s   %s' "$label" "$(secs "$p")" "$(mib "$pr")" "$(secs "$med")" "$(mib "$rss")" "$ratio")")
	last_rss="$rss"
}
secs() { [ -n "$1" ] && printf '%.3fs' "$1" || printf 'n/a'; }
mib() { [ "$1" != "-" ] && printf '%s MiB' "$1" || printf 'n/a'; }
if [ -d "$shared/corpus/$largest" ] && [ "$shared/corpus/$largest" != "$repo" ]; then
	side "$largest" "$shared/corpus/$largest" "$pipeline_runs" 3
fi
fleet5k_rss="-"
for n in ${BENCH_FLEETS-1000 5000}; do
	scripts/fleet.sh "$n" "$tmp/fleet-$n" >/dev/null
	pr=1
	[ "$n" -gt 1000 ] && [ "${BENCH_FULL:-0}" != 1 ] && pr=0
	side "fleet of $n Kustomizations" "$tmp/fleet-$n" "$pr" 1
	[ "$n" = 5000 ] && fleet5k_rss="$last_rss"
done
corpus_rss=() corpus_max=0
for d in "$shared"/corpus/*/; do
	bench "rss $(basename "$d")" 1 /dev/null bin/gitops-lint "$d" --no-config --fail-on never
	corpus_rss+=("$(basename "$d")=$rss")
	[ "$rss" != "-" ] && [ "$rss" -gt "$corpus_max" ] && corpus_max="$rss"
done

row() { printf '  %-36s %9s %10s\n' "$@"; }

echo "gitops-lint bench: $(basename "$repo") on $(nproc 2>/dev/null || echo '?') CPUs ($(go version | awk '{ print $3 }'), pipeline JOBS=$JOBS)"
row "" "wall" "peak RSS"
if [ "$have_pipeline" = 1 ]; then
	row "kustomize | kubeconform ($pipeline_runs runs)" "$(secs "$pipe_med")" "$(mib "$pipe_rss")"
else
	row "kustomize | kubeconform" "skipped" ""
fi
row "gitops-lint render ($runs runs)" "$(secs "$render_med")" "$(mib "$render_rss")"
row "gitops-lint lint ($runs runs)" "$(secs "$lint_med")" "$(mib "$lint_rss")"
row "lint --cache-dir, warm ($runs runs)" "$(secs "$warm_med")" "$(mib "$warm_rss")"
[ -n "$changed_med" ] && row "lint --changed-since HEAD~1 ($runs runs)" "$(secs "$changed_med")" "$(mib "$changed_rss")"
if [ -n "$floor_med" ]; then
	row "kustomize alone, same builds, warm" "$(secs "$floor_med")" ""
	row "process start (gitops-lint version)" "$(secs "$start_med")" ""
fi
echo "  (wall: median of the runs; peak RSS: max over the runs, for the pipeline its largest process)"
[ -n "$pipe_summary" ] && echo "  $pipe_summary"
[ -n "$lint_summary" ] && echo "  lint: $lint_summary"
echo "  warm cache: $warm_same"
[ -n "$changed_summary" ] && echo "  changed ($changed_file): $changed_summary"
echo
for r in "${extra_rows[@]}"; do echo "$r"; done
[ "${#corpus_rss[@]}" -gt 0 ] && echo "  peak RSS of a lint, per corpus repository (MiB): ${corpus_rss[*]}"
echo

verdict() { [ "$1" = 1 ] && echo PASS || echo FAIL; }
if [ -n "$pipe_med" ]; then
	ratio="$(awk -v p="$pipe_med" -v r="$lint_med" 'BEGIN { if (r > 0) printf "%.1f", p / r; else print "inf" }')"
	ok="$(awk -v p="$pipe_med" -v r="$lint_med" 'BEGIN { print (r * 10 <= p) ? 1 : 0 }')"
	printf '  %-44s %-22s %s\n' "lint vs pipeline: ${ratio}x faster" "target: >= 10x" "$(verdict "$ok")"
	if [ -n "$floor_med" ]; then
		# What the floor leaves: the most any lint rendering with kustomize
		# could reach, and the time 10x leaves for everything else.
		fl="$(awk -v p="$pipe_med" -v f="$floor_med" -v s="$start_med" 'BEGIN { printf "%.1fx, leaving %.0f ms of the 10x budget", p / (f + s), (p / 10 - f - s) * 1000 }')"
		printf '  %-44s\n' "floor (kustomize alone + start): ${fl}"
	fi
else
	printf '  %-44s %-22s %s\n' "lint vs pipeline: n/a" "target: >= 10x" "SKIP"
fi
if [ -n "$changed_med" ]; then
	ok="$(awk -v c="$changed_med" 'BEGIN { print (c <= 0.2) ? 1 : 0 }')"
	printf '  %-44s %-22s %s\n' "changed-since: ${changed_med}s" "target: <= 0.2s" "$(verdict "$ok")"
fi
if [ "$render_rss" != "-" ]; then
	peak=$((render_rss > lint_rss ? render_rss : lint_rss))
	[ "$corpus_max" -gt "$peak" ] && peak="$corpus_max"
	ok=$((peak <= 400 ? 1 : 0))
	printf '  %-44s %-22s %s\n' "peak RSS over the corpus: $peak MiB" "target: <= 400 MiB" "$(verdict "$ok")"
	if [ "$fleet5k_rss" != "-" ]; then
		ok=$((fleet5k_rss <= 600 ? 1 : 0))
		printf '  %-44s %-22s %s\n' "peak RSS on the 5k fleet: $fleet5k_rss MiB" "target: <= 600 MiB" "$(verdict "$ok")"
	fi
else
	printf '  %-44s %-22s %s\n' "peak RSS: n/a" "target: <= 400 MiB" "SKIP"
fi
exit 0
