#!/bin/bash
# swift-modula and JAX side by side in one session, alternating the two for several rounds, in the environment the
# user has (nothing set or unset: the first line of modula-bench names the OpenBLAS core swift-modula runs with).
#
#   Benchmarks/jax/compare.sh [rounds] [python-with-jax] [steps|job|all]
#   Benchmarks/jax/compare.sh --ratios <saved output>     (the ratio lines again, from a saved run)
#
# steps: the training steps and the six-step orthogonalization alone (modula-bench step/…, orthogonalize/six-step
#        against reference.py), at 1 thread (JAX pinned to one CPU) and at 2.
# job:   the whole hello-MNIST job as a user runs it, data load, 1000 steps and evaluation: the release
#        modula-examples hello-mnist that scripts/train runs, against hello_mnist.py, at 1 and 2 threads; `ms` is the
#        wall-clock time of the process, `cpu_ms` its user + system time.
# Builds what is missing (release modula-bench, release modula-examples) and, without a Python argument, installs JAX
# into /tmp/jaxvenv. On a machine shared with other work, the minimum over rounds is the better estimate of each
# side's speed; the median of the per-round ratios is printed too. The orthogonalize ratios also give
# kernels_bound (JAX's time over that of the iteration's BLAS calls alone: the most any overhead cut could reach) and
# xla_gemm_speedup (OpenBLAS's time for JAX's plain-GEMM form over JAX's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# ratios <log>: the ratio lines from the `round=<r> bench …` lines of a run (also: compare.sh --ratios <saved output>).
ratios() {
  awk '
  /^round=[0-9]+ bench / {
    split($1, rr, "="); r = rr[2]; if (r + 0 > rounds) rounds = r + 0; name = $3; shape = $4; ms = ""; th = ""
    kern = ""; form = ""
    for (i = 5; i <= NF; i++) {
      split($i, kv, "=")
      if (kv[1] == "ms") ms = kv[2]; if (kv[1] == "threads") th = kv[2]
      if (kv[1] == "kernels_ms") kern = kv[2]; if (kv[1] == "gemm_form_ms") form = kv[2]
    }
    if (ms == "" || th == "") next
    side = (name ~ /^jax\//) ? "jax" : "swift"; sub(/^jax\//, "", name)
    k = name " " shape " threads=" th
    t[side, k, r] = ms; keys[k] = 1
    if (!((side, k) in best) || ms + 0 < best[side, k] + 0) best[side, k] = ms
    if (kern != "" && (!(k in bestKern) || kern + 0 < bestKern[k] + 0)) bestKern[k] = kern
    if (form != "" && (!(k in bestForm) || form + 0 < bestForm[k] + 0)) bestForm[k] = form
  }
  END {
    for (k in keys) {
      if (!(("jax", k) in best) || !(("swift", k) in best)) continue
      n = 0
      for (r = 1; r <= rounds; r++) if ((("jax", k, r) in t) && (("swift", k, r) in t)) q[++n] = t["jax", k, r] / t["swift", k, r]
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (q[j] < q[i]) { x = q[i]; q[i] = q[j]; q[j] = x }
      med = (n % 2) ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2
      extra = ""
      # kernels_bound: the ratio if everything but the OpenBLAS kernels cost nothing; xla_gemm_speedup: XLA against
      # OpenBLAS on the same plain-GEMM form (> 1: the XLA GEMMs are faster). See modula-bench Orthogonalize.swift.
      if (k in bestKern) extra = extra sprintf(" kernels_min_ms=%s kernels_bound=%.2f", bestKern[k], best["jax", k] / bestKern[k])
      if (k in bestForm) extra = extra sprintf(" gemm_form_min_ms=%s xla_gemm_speedup=%.2f", bestForm[k], bestForm[k] / best["jax", k])
      printf "ratio %s jax_min_ms=%s swift_min_ms=%s ratio_of_minima=%.2f median_ratio=%.2f rounds=%d%s\n",
        k, best["jax", k], best["swift", k], best["jax", k] / best["swift", k], med, n, extra
    }
  }' "$1" | sort
}
if [ "${1:-}" = "--ratios" ]; then
  [ -r "${2:-}" ] || { echo "compare.sh --ratios: needs a readable file of compare.sh output, got '${2:-}'" >&2; exit 66; }
  ratios "$2"
  exit 0
fi
rounds=${1:-3}
python=${2:-/tmp/jaxvenv/bin/python}
what=${3:-all}
case "$what" in steps|job|all) ;; *) echo "compare.sh: the third argument must be steps, job or all, got '$what'" >&2; exit 64;; esac
if [ ! -x "$python" ]; then
  if [ -n "${2:-}" ]; then echo "compare.sh: $python is not an executable Python" >&2; exit 66; fi
  echo "# installing JAX into /tmp/jaxvenv" >&2
  python3 -m venv /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install --quiet jax numpy >&2
fi
# The job reads Fashion-MNIST from Debian's dataset-fashion-mnist, as scripts/train does.
if [ "$what" != steps ]; then "$root/scripts/ensure-packages" dataset-fashion-mnist time >&2; fi
(cd "$root" && swift build -c release --product modula-bench >/dev/null)
(cd "$root" && swift build -c release --package-path Examples --product modula-examples >/dev/null)
bench="$root/.build/release/modula-bench"
examples="$root/Examples/.build/release/modula-examples"
filters="step/hello-gpt step/hello-mnist step/mlp-256 step/mlp-1024 orthogonalize/six-step"
out=$(mktemp)
trap 'rm -f "$out" "$out.time" "$out.stdout" "$out.stderr"' EXIT
"$bench" peak | sed -n 1,2p   # the OpenBLAS core, kernels and threads this side runs with

# job <side> <threads> command…: one `bench [jax/]job/hello-mnist` line from the process's wall-clock and CPU time.
job() {
  local side=$1 threads=$2; shift 2
  if ! /usr/bin/time -f '%e %U %S' -o "$out.time" "$@" > "$out.stdout" 2>"$out.stderr"; then
    echo "compare.sh: the ${side:-swift-modula }job failed: $*" >&2
    cat "$out.stderr" >&2
    return 1
  fi
  read -r wall user sys < "$out.time"
  local accuracy
  accuracy=$(grep -o 'test_accuracy=[0-9.]*' "$out.stdout" | head -1)
  echo "bench ${side}job/hello-mnist steps=1000 ms=$(awk "BEGIN{print $wall*1000}") cpu_ms=$(awk "BEGIN{print ($user+$sys)*1000}") threads=$threads $accuracy"
}

for r in $(seq "$rounds"); do
  {
    if [ "$what" != job ]; then
      "$bench" $filters | grep -v 'blas_ms='   # the tensor-only step/mlp-1024 line of main.swift
      "$python" "$here/reference.py" --threads 1 2>/dev/null
      "$python" "$here/reference.py" --threads 2 2>/dev/null
    fi
    if [ "$what" != steps ]; then
      for t in 1 2; do
        job "" "$t" "$examples" hello-mnist --threads "$t"
        job jax/ "$t" "$python" "$here/hello_mnist.py" --threads "$t"
      done
    fi
  } | sed "s/^/round=$r /" | tee -a "$out"
done
echo "# ratios: JAX ms / swift-modula ms at the same thread count (> 1: swift-modula is faster)"
ratios "$out"
