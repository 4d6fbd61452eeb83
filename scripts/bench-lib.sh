# Shared by scripts/bench-check and scripts/bench-apply (sourced, not run).
#
# Each measurement appends one row to $bench_results (tab-separated:
# series, size, items, median s, min s, max s, peak KB, runs, CPU s) and
# prints it; `bench_report` prints the rows of every series as a table with
# the cost per item, a linearity verdict per series, the issue's targets
# next to the figures and sdbc's share of Terraform's time and memory.
# Times are wall-clock medians; CPU is hyperfine's mean user + system time
# of a run, which other work on a shared machine disturbs less.
#
# The caller sets bench_tmp (a scratch directory) before sourcing.

bench_results=$bench_tmp/results.tsv
: >"$bench_results"

# Prints a one-line skip notice and returns 1 when terraform is not on the
# PATH or the caller turned it off ($1 = 1 to skip).
bench_terraform_available() {
  if [ "${1:-0}" = 1 ]; then
    echo "Terraform column: skipped (--skip-terraform)."
    return 1
  fi
  if ! command -v terraform >/dev/null 2>&1; then
    echo "Terraform column: skipped (no \`terraform\` on the PATH)."
    return 1
  fi
  # Offline and quiet: no version check against HashiCorp's servers.
  export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
  return 0
}

# The number of timed runs for a command on $1 items: fewer for the big
# sizes, whose runs take seconds and whose noise is relatively smaller.
bench_runs() {
  if [ "$1" -le 10000 ]; then echo 10; else echo 3; fi
}

# bench_measure SERIES SIZE ITEMS RUNS CMD ARG...
# Times CMD (in the current directory; its output discarded) RUNS times
# after one warm-up run, with hyperfine, or a Python loop when hyperfine is
# missing; then one more run under GNU time for the peak resident memory.
# The arguments must not contain spaces (hyperfine splits the command).
bench_measure() {
  local series=$1 size=$2 items=$3 runs=$4
  shift 4
  local json=$bench_tmp/timing.json peak=-
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$json" -- "$*" >/dev/null
  else
    python3 - "$json" "$runs" "$@" <<'EOF'
import json, statistics, subprocess, sys, time
out, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = []
for i in range(runs + 1):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if i:
        times.append(time.perf_counter() - t)
r = {"median": statistics.median(times), "min": min(times), "max": max(times),
     "user": None, "system": None}
json.dump({"results": [r]}, open(out, "w"))
EOF
  fi
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o "$bench_tmp/peak" "$@" >/dev/null 2>&1 || true
    peak=$(tail -n1 "$bench_tmp/peak")
  fi
  python3 - "$json" "$series" "$size" "$items" "$peak" "$runs" "$bench_results" <<'EOF'
import json, sys
path, series, size, items, peak, runs, results = sys.argv[1:]
r = json.load(open(path))["results"][0]
cpu = None if r.get("user") is None else r["user"] + r["system"]
row = [series, size, items, f"{r['median']:.6f}", f"{r['min']:.6f}", f"{r['max']:.6f}", peak, runs,
       "-" if cpu is None else f"{cpu:.6f}"]
open(results, "a").write("\t".join(row) + "\n")
mem = f"{int(peak) / 1024:.0f} MB" if peak != "-" else "? MB"
cpu_text = "" if cpu is None else f", CPU {cpu * 1000:.1f} ms"
print(f"  {series} [{int(size):,}]: median {r['median'] * 1000:.1f} ms "
      f"(min {r['min'] * 1000:.1f}, max {r['max'] * 1000:.1f}, {runs} runs{cpu_text}), peak {mem}",
      flush=True)
EOF
}

# bench_once SERIES SIZE ITEMS CMD ARG...
# Runs CMD once (for a step too slow to repeat, such as an apply) under GNU
# time and records its wall time and peak memory as a one-run row. Its
# output goes to $bench_tmp/once.out and .err; returns CMD's status.
bench_once() {
  local series=$1 size=$2 items=$3
  shift 3
  local status=0 t0 t1 peak=-
  t0=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o "$bench_tmp/peak" "$@" >"$bench_tmp/once.out" 2>"$bench_tmp/once.err" || status=$?
    peak=$(tail -n1 "$bench_tmp/peak")
  else
    "$@" >"$bench_tmp/once.out" 2>"$bench_tmp/once.err" || status=$?
  fi
  t1=$(date +%s.%N)
  [ "$status" = 0 ] || return "$status"
  python3 - "$t0" "$t1" "$series" "$size" "$items" "$peak" "$bench_results" <<'EOF'
import sys
t0, t1, series, size, items, peak, results = sys.argv[1:]
s = float(t1) - float(t0)
row = [series, size, items, f"{s:.6f}", f"{s:.6f}", f"{s:.6f}", peak, "1", "-"]
open(results, "a").write("\t".join(row) + "\n")
mem = f"{int(peak) / 1024:.0f} MB" if peak != "-" else "? MB"
print(f"  {series} [{int(size):,}]: {s:.2f} s (one run), peak {mem}", flush=True)
EOF
}

# bench_report [--target SERIES SIZE MAX_MS MAX_MB]... [--versus SDBC_SERIES TF_SERIES SIZE TIME_PCT MEM_PCT]...
# Prints every series as a table, then the targets and the ratios asked for.
# MAX_MB, TIME_PCT or MEM_PCT may be `-` (no target).
bench_report() {
  echo
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
  python3 - "$bench_results" "$@" <<'EOF'
import sys
from collections import OrderedDict

rows = OrderedDict()
for line in open(sys.argv[1]):
    s, size, items, med, lo, hi, peak, runs, cpu = line.rstrip("\n").split("\t")
    rows.setdefault(s, {})[int(size)] = dict(
        items=int(items), t=float(med), lo=float(lo), hi=float(hi),
        kb=None if peak == "-" else int(peak), runs=int(runs),
        cpu=None if cpu == "-" else float(cpu))

def mb(kb):
    return "?" if kb is None else f"{kb / 1024:.1f}"

def per_item(v):
    us = v["t"] / v["items"] * 1e6
    kb = "?" if v["kb"] is None else f"{v['kb'] / v['items']:.2f}"
    return us, kb

print("(median: wall-clock median of the runs; CPU: mean user + system time of a run;\n"
      " marginal: the extra time per extra item since the size before)\n")
for series, sizes in rows.items():
    print(f"{series}")
    print(f"  {'size':>8} {'items':>8} {'median ms':>10} {'CPU ms':>8} {'peak MB':>8} "
          f"{'us/item':>8} {'KB/item':>8} {'marginal us/item':>17}")
    prev = None
    for size in sorted(sizes):
        v = sizes[size]
        us, kb = per_item(v)
        marginal = ""
        if prev is not None and v["items"] > prev["items"]:
            marginal = f"{(v['t'] - prev['t']) / (v['items'] - prev['items']) * 1e6:.2f}"
        cpu = "-" if v["cpu"] is None else f"{v['cpu'] * 1000:.1f}"
        print(f"  {size:>8,} {v['items']:>8,} {v['t'] * 1000:>10.1f} {cpu:>8} {mb(v['kb']):>8} "
              f"{us:>8.2f} {kb:>8} {marginal:>17}")
        prev = v
    if len(sizes) > 1:
        small, large = sizes[min(sizes)], sizes[max(sizes)]
        t_ratio = (large["t"] / large["items"]) / (small["t"] / small["items"])
        verdict = "linear (within 1.5x)" if t_ratio <= 1.5 else "NOT linear (over 1.5x)"
        m = ""
        if small["kb"] and large["kb"]:
            m_ratio = (large["kb"] / large["items"]) / (small["kb"] / small["items"])
            m = f", memory per item {m_ratio:.2f}x ({'within' if m_ratio <= 1.5 else 'NOT within'} 1.5x)"
        c = ""
        if small["cpu"] and large["cpu"]:
            c_ratio = (large["cpu"] / large["items"]) / (small["cpu"] / small["items"])
            c = f", CPU time per item {c_ratio:.2f}x ({'within' if c_ratio <= 1.5 else 'NOT within'} 1.5x)"
        print(f"  verdict: time per item at {max(sizes):,} is {t_ratio:.2f}x that at "
              f"{min(sizes):,}: {verdict}{c}{m}")
    print()

args = sys.argv[2:]
i = 0
lines = []
while i < len(args):
    kind = args[i]
    if kind == "--target":
        series, size, max_ms, max_mb = args[i + 1:i + 5]
        i += 5
        v = rows.get(series, {}).get(int(size))
        if v is None:
            lines.append(f"target {series} [{int(size):,}]: not measured at that size")
            continue
        ms = v["t"] * 1000
        text = f"target {series} [{int(size):,}]: {ms:.1f} ms (target {max_ms} ms: " \
               f"{'met' if ms <= float(max_ms) else 'NOT met'}"
        if v["cpu"] is not None:
            text += f"; CPU {v['cpu'] * 1000:.1f} ms"
        text += ")"
        if max_mb != "-":
            got = v["kb"] / 1024 if v["kb"] is not None else None
            verdict = "?" if got is None else ("met" if got <= float(max_mb) else "NOT met")
            text += f", {mb(v['kb'])} MB (target {max_mb} MB: {verdict})"
        lines.append(text)
    elif kind == "--versus":
        ours, theirs, size, t_pct, m_pct = args[i + 1:i + 6]
        i += 6
        a = rows.get(ours, {}).get(int(size))
        b = rows.get(theirs, {}).get(int(size))
        if a is None or b is None:
            lines.append(f"{ours} vs {theirs} [{int(size):,}]: not both measured")
            continue
        tp = a["t"] / b["t"] * 100
        text = f"{ours} vs {theirs} [{int(size):,}]: time {a['t'] * 1000:.1f} / {b['t'] * 1000:.1f} ms = {tp:.2f}%"
        if t_pct != "-":
            text += f" (target {t_pct}%: {'met' if tp <= float(t_pct) else 'NOT met'})"
        if a["cpu"] and b["cpu"]:
            text += f"; CPU {a['cpu'] * 1000:.1f} / {b['cpu'] * 1000:.1f} ms = {a['cpu'] / b['cpu'] * 100:.2f}%"
        if a["kb"] and b["kb"]:
            mp = a["kb"] / b["kb"] * 100
            text += f"; memory {mb(a['kb'])} / {mb(b['kb'])} MB = {mp:.1f}%"
            if m_pct != "-":
                text += f" (target {m_pct}%: {'met' if mp <= float(m_pct) else 'NOT met'})"
        lines.append(text)
    else:
        sys.exit(f"bench_report: unknown argument {kind}")
if lines:
    print("Targets (issue 15):")
    for line in lines:
        print(f"  {line}")
EOF
}
