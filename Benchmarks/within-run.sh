#!/bin/bash
# Does a training run slow down as it proceeds? Trains hello-GPT (the release modula-examples, its default 2001 steps
# unless told otherwise) with --log-dir and compares the median tokens/s of the early steps with that of the last ones.
#
#   Benchmarks/within-run.sh [steps] [threads] [flushed|kept|both]
#
# Prints one line per run:
#   bench run/hello-gpt steps=… threads=… denormals=flushed|kept early_tokens_per_second=… late_tokens_per_second=…
#         late_over_early=… seconds=… val_loss=…
# early: the median over steps 50–150; late: over the last 101 steps. late_over_early below 1 means the late steps ran
# slower. `kept` runs with MODULA_DENORMALS=keep (IEEE gradual underflow), the setting under which Intel cores slowed
# down 3× after step 700 (README, "OpenBLAS kernels and denormals"). Nothing else in the environment is changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
steps=${1:-2001}
threads=${2:-2}
which=${3:-flushed}
case "$steps" in ''|*[!0-9]*) echo "within-run.sh: steps must be a whole number ≥ 300, got '$steps'" >&2; exit 64;; esac
if [ "$steps" -lt 300 ]; then echo "within-run.sh: steps must be ≥ 300 (early and late windows), got $steps" >&2; exit 64; fi
case "$threads" in ''|*[!0-9]*) echo "within-run.sh: threads must be a whole number ≥ 1, got '$threads'" >&2; exit 64;; esac
case "$which" in flushed) modes=flushed;; kept) modes=kept;; both) modes="flushed kept";;
  *) echo "within-run.sh: the third argument must be flushed, kept or both, got '$which'" >&2; exit 64;; esac
command -v python3 >/dev/null || { echo "within-run.sh: needs python3 to read metrics.jsonl" >&2; exit 69; }
(cd "$root" && swift build -c release --package-path Examples --product modula-examples >/dev/null)
examples="$root/Examples/.build/release/modula-examples"
"$examples" --version
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
for mode in $modes; do
  if [ "$mode" = kept ]; then denormals=keep; else denormals=flush; fi
  out="$logs/$mode.out"
  if ! MODULA_DENORMALS=$denormals "$examples" hello-gpt --steps "$steps" --threads "$threads" --no-figures \
       --log-dir "$logs/$mode" > "$out" 2> "$logs/$mode.err"; then
    echo "within-run.sh: hello-gpt failed ($mode):" >&2
    cat "$logs/$mode.err" >&2
    exit 1
  fi
  python3 - "$logs/$mode/metrics.jsonl" "$out" "$steps" "$threads" "$mode" <<'EOF'
import json, re, statistics, sys
path, out, steps, threads, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
rate = {}
for line in open(path):
    row = json.loads(line)
    if "tokens_per_second" in row:
        rate[row["step"]] = row["tokens_per_second"]
last = max(rate)
early = statistics.median(rate[s] for s in range(50, 151) if s in rate)
late = statistics.median(rate[s] for s in range(last - 100, last + 1) if s in rate)
result = open(out).read()
seconds = re.search(r"seconds=([0-9.]+)", result)
loss = re.search(r"\bval_loss=([0-9.]+)", result)
print(f"bench run/hello-gpt steps={steps} threads={threads} denormals={mode} early_tokens_per_second={early:.0f} "
      f"late_tokens_per_second={late:.0f} late_over_early={late / early:.3f} "
      f"seconds={seconds.group(1) if seconds else 'nan'} val_loss={loss.group(1) if loss else 'nan'}")
EOF
done
