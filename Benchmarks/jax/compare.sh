#!/bin/bash
# Times the same training steps (and the six-step orthogonalization alone) in swift-modula (modula-bench
# step/…, orthogonalize/six-step) and in JAX (reference.py) in one
# session, alternating the two for several rounds, with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
# for both, and prints per-round lines and the ratios.
#
#   Benchmarks/jax/compare.sh [rounds] [python-with-jax]
#
# Build first: swift build -c release --product modula-bench. JAX: python3 -m venv /tmp/jaxvenv &&
# /tmp/jaxvenv/bin/pip install jax. Each side runs at 1 thread (JAX pinned to one CPU) and at 2.
# On a machine shared with other work, the minimum over rounds is the better estimate of each side's
# speed; the median of the per-round ratios is printed too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
python=${2:-/tmp/jaxvenv/bin/python}
bench="$root/.build/release/modula-bench"
filters="step/hello-gpt step/hello-mnist step/mlp-256 step/mlp-1024 orthogonalize/six-step"
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  {
    run "$bench" $filters | grep -v 'blas_ms='   # the tensor-only step/mlp-1024 line of main.swift
    run "$python" "$here/reference.py" --threads 1 2>/dev/null
    run "$python" "$here/reference.py" --threads 2 2>/dev/null
  } | sed "s/^/round=$r /" | tee -a "$out"
done
echo "# ratios: JAX ms / swift-modula ms at the same thread count (> 1: swift-modula is faster)"
awk '
  /^round=[0-9]+ bench / {
    split($1, rr, "="); r = rr[2]; name = $3; shape = $4; ms = ""; th = ""
    for (i = 5; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "ms") ms = kv[2]; if (kv[1] == "threads") th = kv[2] }
    if (ms == "" || th == "") next
    side = (name ~ /^jax\//) ? "jax" : "swift"; sub(/^jax\//, "", name)
    k = name " " shape " threads=" th
    t[side, k, r] = ms; keys[k] = 1
    if (!((side, k) in best) || ms + 0 < best[side, k] + 0) best[side, k] = ms
  }
  END {
    for (k in keys) {
      if (!(("jax", k) in best) || !(("swift", k) in best)) continue
      n = 0
      for (r = 1; r <= '"$rounds"'; r++) if ((("jax", k, r) in t) && (("swift", k, r) in t)) q[++n] = t["jax", k, r] / t["swift", k, r]
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (q[j] < q[i]) { x = q[i]; q[i] = q[j]; q[j] = x }
      med = (n % 2) ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2
      printf "ratio %s jax_min_ms=%s swift_min_ms=%s ratio_of_minima=%.2f median_ratio=%.2f rounds=%d\n",
        k, best["jax", k], best["swift", k], best["jax", k] / best["swift", k], med, n
    }
  }' "$out" | sort
