#!/bin/bash
# Does a training run slow down as it proceeds? hello-GPT (the release modula-examples, 2001 steps unless told
# otherwise), timed in a way that a shared machine's drift does not decide the answer:
#
#   Benchmarks/within-run.sh [steps] [threads] [flushed|kept|both] [rounds]
#
# 1. Trains to step 100 and saves the state (early), then on to step steps−50 and saves it again (late), logging
#    every step (--log-dir).
# 2. Then, `rounds` times (3 by default), alternately resumes the early state for 50 steps and the late state for its
#    last 50, so that both are timed side by side, minutes apart at most.
#
# Prints one line per denormal setting:
#   bench run/hello-gpt steps=… threads=… denormals=flushed|kept early_tokens_per_second=… late_tokens_per_second=…
#         late_over_early=… run_late_over_early=… val_loss=…
# early/late_tokens_per_second: the 90th percentile of the per-step rates over the alternated resumes (the first 5
# steps of each left out: warm-up), as the faster steps are the ones other work on a shared machine moves least
# (window medians moved by ±25 % on a shared 2-core Zen 4, their 90th percentiles by about ±5 %); late_over_early
# below 1 means that the late state's steps run slower. run_late_over_early: the same from the one long run of
# step 1 (steps 105–205 against its last 101).
# `kept` runs with MODULA_DENORMALS=keep (IEEE gradual underflow), the setting under which Intel cores slowed down 3×
# after step 700 (README, "OpenBLAS kernels and denormals"). Nothing else in the environment is changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
steps=${1:-2001}
threads=${2:-2}
which=${3:-flushed}
rounds=${4:-3}
number() { case "$2" in ''|*[!0-9]*) echo "within-run.sh: $1 must be a whole number, got '$2'" >&2; exit 64;; esac; }
number steps "$steps"; number threads "$threads"; number rounds "$rounds"
if [ "$steps" -lt 400 ]; then echo "within-run.sh: steps must be ≥ 400 (an early and a late window), got $steps" >&2; exit 64; fi
if [ "$threads" -lt 1 ] || [ "$rounds" -lt 1 ]; then echo "within-run.sh: threads and rounds must be ≥ 1" >&2; exit 64; fi
case "$which" in flushed) modes=flushed;; kept) modes=kept;; both) modes="flushed kept";;
  *) echo "within-run.sh: the third argument must be flushed, kept or both, got '$which'" >&2; exit 64;; esac
command -v python3 >/dev/null || { echo "within-run.sh: needs python3 to read metrics.jsonl" >&2; exit 69; }
(cd "$root" && swift build -c release --package-path Examples --product modula-examples >/dev/null)
examples="$root/Examples/.build/release/modula-examples"
"$examples" --version
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
late=$((steps - 50))
for mode in $modes; do
  if [ "$mode" = kept ]; then denormals=keep; else denormals=flush; fi
  dir="$work/$mode"
  mkdir -p "$dir"
  gpt() {  # gpt <name> options…: one hello-gpt process, its output kept as <name>.out and .err
    local name=$1; shift
    if ! MODULA_DENORMALS=$denormals "$examples" hello-gpt --steps "$steps" --threads "$threads" --no-figures "$@" \
         > "$dir/$name.out" 2> "$dir/$name.err"; then
      echo "within-run.sh: hello-gpt $* failed ($mode):" >&2
      cat "$dir/$name.err" >&2
      exit 1
    fi
  }
  gpt start --checkpoint "$dir/early.safetensors" --stop-after 100
  gpt run --resume "$dir/early.safetensors" --checkpoint "$dir/late.safetensors" --stop-after "$late" --log-dir "$dir/run"
  for r in $(seq "$rounds"); do
    gpt "early$r" --resume "$dir/early.safetensors" --stop-after 150 --log-dir "$dir/early$r"
    gpt "late$r" --resume "$dir/late.safetensors" --log-dir "$dir/late$r"
  done
  python3 - "$dir" "$steps" "$threads" "$mode" "$rounds" <<'EOF'
import json, re, sys
folder, steps, threads, mode, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
def rates(name):
    out = {}
    for line in open(f"{folder}/{name}/metrics.jsonl"):
        row = json.loads(line)
        if "tokens_per_second" in row:
            out[row["step"]] = row["tokens_per_second"]
    return out
def fast(values):  # the 90th percentile
    values = sorted(values)
    return values[min(len(values) - 1, int(0.9 * len(values)))]
def resumed(kind):  # every step of the resumed runs but the first 5 of each
    values = []
    for r in range(1, rounds + 1):
        rate = rates(f"{kind}{r}")
        first = min(rate)
        values += [v for s, v in rate.items() if s >= first + 5]
    return fast(values)
early, late = resumed("early"), resumed("late")
run = rates("run")
last = max(run)
run_early = fast(run[s] for s in range(105, 206) if s in run)
run_late = fast(run[s] for s in range(last - 100, last + 1) if s in run)
loss = re.search(r"\bval_loss=([0-9.]+)", open(f"{folder}/late1.out").read())
print(f"bench run/hello-gpt steps={steps} threads={threads} denormals={mode} early_tokens_per_second={early:.0f} "
      f"late_tokens_per_second={late:.0f} late_over_early={late / early:.3f} "
      f"run_late_over_early={run_late / run_early:.3f} val_loss={loss.group(1) if loss else 'nan'}")
EOF
done
