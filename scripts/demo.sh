#!/usr/bin/env bash
# `make demo`: the main job on the embedded default data, step by step, with each command shown:
# simulate leads, train and register a model in the local MLflow store, start the API on localhost
# and score an example lead. The API keeps running until Ctrl-C (DEMO_KEEP_SERVING=0 stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/.venv/bin
OUT=${DEMO_DIR:-out/demo}
LEADS=${DEMO_LEADS:-8000}
PORT=${DEMO_PORT:-8000}
KEEP_SERVING=${DEMO_KEEP_SERVING:-1}
export PATH="$BIN:$PATH"

step() { printf '\n\033[1;32m==> %s\033[0m\n$ %s\n' "$1" "$2"; }

step "1/4 Simulate $LEADS lead journeys (the embedded default data set)" \
     "leadripe simulate --leads $LEADS --seed 7 --out $OUT/simulated"
leadripe simulate --leads "$LEADS" --seed 7 --out "$OUT/simulated"

step "2/4 Train, evaluate against the baselines on a later test period, register in MLflow" \
     "leadripe train --data $OUT/simulated"
leadripe train --data "$OUT/simulated"

if [ -d ../shared/datasets/olist_marketing_funnel ]; then
  step "3/4 Import a real CRM export (Olist marketing funnel) through its mapping" \
       "leadripe import --mapping data/mappings/olist.toml --out $OUT/olist"
  leadripe import --mapping data/mappings/olist.toml --out "$OUT/olist"
else
  step "3/4 (skipped) import of a real export: ../shared/datasets not found" "true"
fi

# Serve the champion; if this run's model was not promoted and no champion exists yet, the
# challenger, so that the demo still shows the API (the summary above says why it was not promoted).
MODEL_URI=$(python - <<'PY'
from training.registry import current_champion
from training.registry.tracking import configure_tracking
configure_tracking()
print("models:/lead-maturity@" + ("champion" if current_champion("lead-maturity") else "challenger"))
PY
)
step "4/4 Serve $MODEL_URI on http://127.0.0.1:$PORT" "LEADRIPE_MODEL_URI=$MODEL_URI leadripe serve --port $PORT"
LEADRIPE_MODEL_URI=$MODEL_URI leadripe serve --port "$PORT" > "$OUT/api.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { echo "the API did not start; see $OUT/api.log"; tail -20 "$OUT/api.log"; exit 1; }
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "the API is not ready; see $OUT/api.log"; exit 1; }

printf '\nExample call (a lead that attended a webinar but has shown no buying signal yet):\n'
printf '$ curl -s -X POST http://127.0.0.1:%s/v1/score -H "Content-Type: application/json" -d @data/examples/lead.json\n' "$PORT"
curl -s -X POST "http://127.0.0.1:$PORT/v1/score" -H "Content-Type: application/json" \
     -d @data/examples/lead.json | "$BIN/python" -m json.tool

printf '\nAPI docs: http://127.0.0.1:%s/docs   model: http://127.0.0.1:%s/v1/model\n' "$PORT" "$PORT"
if [ "$KEEP_SERVING" = "1" ]; then
  echo "The API keeps running (logs in $OUT/api.log). Press Ctrl-C to stop."
  wait $SERVER
fi
