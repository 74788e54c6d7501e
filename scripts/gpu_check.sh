#!/usr/bin/env bash
# GPU check (issue 19), for a machine with a CUDA GPU. It trains a few steps on CUDA in bfloat16
# three ways — one process, `--nproc 1`, and torchrun (a process group of one, nccl) — evaluates
# the result on the GPU, and compares a CUDA float32 forward with the CPU forward of the same
# checkpoint. Without a GPU it says so and exits with 77 (the usual "skipped" code); any failed
# step exits non-zero with its own message. Usage: scripts/gpu_check.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-${PYTHON:-.venv/bin/python}}
[ -x "$PY" ] || PY=python3

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "gpu_check: PyTorch sees no CUDA GPU here ($("$PY" -c 'import torch; print(torch.__version__)')); nothing was checked."
    exit 77
fi
"$PY" -c 'import torch; print("gpu_check:", torch.cuda.get_device_name(0), "| torch", torch.__version__, "| CUDA", torch.version.cuda)'

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SETTINGS=(--task copy-increment --set epochs=2 --set train_size=512 --set test_size=128 --set hidden_size=128
          --set num_heads=4 --set puzzle_emb_ndim=128 --set batch_size=64 --set forward_dtype=bfloat16
          --set device=cuda --set tensorboard=false --set stop_at_exact=0 --quiet)

step() { echo; echo "== $1"; shift; local started=$SECONDS; "$@"; echo "   ($((SECONDS - started)) s)"; }

step "train, one process, CUDA, bfloat16" "$PY" -m hrm_studio train "${SETTINGS[@]}" --out "$T/one"
step "train, --nproc 1" "$PY" -m hrm_studio train "${SETTINGS[@]}" --nproc 1 --out "$T/nproc1"
step "train, torchrun (one process, nccl)" "$PY" -m torch.distributed.run --nnodes 1 --nproc-per-node 1 \
    --master-addr 127.0.0.1 --master-port 29517 -m hrm_studio train "${SETTINGS[@]}" --out "$T/torchrun"
step "evaluate on the GPU" "$PY" -m hrm_studio eval "$T/one" --json

step "CUDA float32 forward against the CPU forward of the same checkpoint" "$PY" - "$T/one" <<'PYEOF'
import sys
from pathlib import Path

import torch

from hrm_studio.config import RunConfig
from hrm_studio.evaluation.predict import evaluate
from hrm_studio.runstore.keys import CheckpointKind
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.data_source import load_data
from hrm_studio.training.model_factory import build_head, model_config

run = RunDir(Path(sys.argv[1]))
payload = ckpt.torch_load_safely(run.checkpoint(CheckpointKind.FINAL))
assert all(t.device.type == "cpu" for t in payload["model"].values()), "the checkpoint holds GPU tensors"
config = RunConfig.from_dict(payload["config"])
config.set("forward_dtype", "float32")
data = load_data(config)
logits = {}
for where in ("cpu", "cuda"):
    head = build_head(config, model_config(config, data.info), torch.device(where))
    ckpt.load_into(head.model, ckpt.strip_prefixes(payload["model"]), "the checkpoint")
    logits[where] = evaluate(head, data.test, batch_size=64, keep_logits=True).logits
diff = abs(logits["cpu"] - logits["cuda"]).max()
scale = abs(logits["cpu"]).max()
same = (logits["cpu"].argmax(-1) == logits["cuda"].argmax(-1)).mean()
print(f"   max |CPU - CUDA| logit = {diff:.3g} (logits up to {scale:.3g}); same argmax on {100 * same:.2f} % of cells")
if not diff <= 1e-3 * max(1.0, scale):
    sys.exit("gpu_check: the CUDA float32 forward differs from the CPU forward by more than float32 rounding")
PYEOF
echo; echo "gpu_check: all steps passed"
