#!/usr/bin/env bash
# The nearest-neighbour baseline (rlr train --model knn) at several coreset fractions on one
# dataset, through the real binary. Usage, from the repository root:
#   packages/cli/bench/knn-baseline.sh <name> <out-dir> <train flags…>
# e.g. (KolektorSDD as in docs/presets.md):
#   packages/cli/bench/knn-baseline.sh kolektor /tmp/knn --format folder \
#     --normal-dir ../shared/data/kolektorsdd/good --abnormal-dir ../shared/data/kolektorsdd/defect \
#     --mask-dir ../shared/data/kolektorsdd/masks --test-fraction 0.75 --seed 3407 \
#     --backbone mobilenet_v1_0.75 --weights ../shared/weights/mobilenet_v1_0.75_224 --image-size 240x96
# CORESETS (default "1 0.25 0.1") picks the fractions, TAG names a variant. Each run extracts its
# own features (rlr train takes only a new or empty --out). Appends one JSON line per run to <out-dir>/results.jsonl: build_s is the bank build
# (coreset selection) alone, train_s the whole `rlr train` wall time, infer_ms_per_image the
# extraction + scoring time per test image of `rlr eval`.
set -euo pipefail
name=$1; out=$2; shift 2
bin="$(cd "$(dirname "$0")/.." && pwd)/dist/bin.js"
mkdir -p "$out"
for f in ${CORESETS:-1 0.25 0.1}; do
  run="$out/$name-knn-$f${TAG:+-$TAG}"
  rm -rf "$run"
  start=$(date +%s.%N)
  node "$bin" train --model knn --coreset "$f" --out "$run" --quiet "$@"
  mid=$(date +%s.%N)
  node "$bin" eval --model "$run" --quiet > /dev/null
  end=$(date +%s.%N)
  node -e '
    const [name, coreset, run, t0, t1, t2, flags] = process.argv.slice(1);
    const p = (f) => require(require("node:path").resolve(run, f));
    const m = p("report/metrics.json");
    const c = p("model/config.json");
    console.log(JSON.stringify({ dataset: name, model: "knn", coreset: +coreset, tag: process.env.TAG || null, flags,
      bank_tokens: c.levels.map((l) => l.bankSize), build_s: +c.build.seconds.toFixed(2), train_s: +(t1 - t0).toFixed(1), eval_s: +(t2 - t1).toFixed(1),
      infer_ms_per_image: +m.timing.ms_per_image.toFixed(1), image_auroc: m.mean.image.auroc,
      pixel_auroc: m.mean.pixel ? m.mean.pixel.auroc : null, aupro: m.mean.pixel ? m.mean.pixel.aupro : null, test_images: m.pooled.counts }));
  ' "$name" "$f" "$run" "$start" "$mid" "$end" "$*" | tee -a "$out/results.jsonl"
done
