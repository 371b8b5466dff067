#!/usr/bin/env bash
# `make demo`: the main job on the embedded default data, step by step, with the commands shown.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
OUT=${DEMO_DIR:-out/demo}
LEADS=${DEMO_LEADS:-5000}

step() { printf '\n\033[1;32m==> %s\033[0m\n$ %s\n' "$1" "$2"; }

step "Simulate $LEADS leads (the embedded default data set)" \
     "leadripe simulate --leads $LEADS --seed 7 --out $OUT/simulated"
$BIN/leadripe simulate --leads "$LEADS" --seed 7 --out "$OUT/simulated"

if [ -d ../shared/datasets/olist_marketing_funnel ]; then
  step "Import a real CRM export (Olist marketing funnel) through its mapping" \
       "leadripe import --mapping data/mappings/olist.toml --out $OUT/olist"
  $BIN/leadripe import --mapping data/mappings/olist.toml --out "$OUT/olist"
else
  echo "(../shared/datasets not found: skipping the import of a real export)"
fi
