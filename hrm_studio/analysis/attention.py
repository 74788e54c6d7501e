"""Where one cell looks: the attention weights of one query cell at one update, layer and head.

The model's attention runs through SDPA (or HRM Studio's kernel), which never hands its weights
out. So the update in question is replayed from the recorded states — the same module, the
same inputs, layers up to the chosen one — and only that layer's weights are recomputed from
its q and k (:meth:`~hrm_studio.model.layers.Attention.attention_weights`). Nothing is hooked
into the model's normal run.

Which update a level names:

- ``"H"``: the high-level update of the step (TRM: the answer update ``z_H ← net(z_H, z_L)``
  of its one network);
- ``"L"``: a low-level update of the step, by default the last one (the one the high-level
  update then reads); ``inner`` picks another (0 to L_cycles − 1).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from hrm_studio.analysis.recording import StateRecorder, act_model, make_batch, run_segments, steps_per_segment
from hrm_studio.analysis.trace import AttentionMap
from hrm_studio.errors import UserError
from hrm_studio.model.act import ACTModel

__all__ = ["AttentionReplay", "attention_map", "update_inputs"]


def attention_map(model: Any, inputs: np.ndarray, puzzle_identifier: int, *, step: int, level: str, layer: int,
                  head: int, cell: int, inner: int = -1) -> AttentionMap:
    """The attention weights of grid cell `cell` at high-level step `step` (global, 0-based), for
    `level`'s module, block `layer` and head `head`. Runs the segments up to `step`; to ask about
    many cells, heads or layers of one puzzle, keep an :class:`AttentionReplay` instead."""
    act = act_model(model)
    _check_request(act, level, layer, head, cell)
    if step < 0:
        raise UserError(f"Step {step} is before the first one (0).")
    replay = AttentionReplay(act, inputs, puzzle_identifier, segments=step // steps_per_segment(act) + 1)
    return replay.map(step=step, level=level, layer=layer, head=head, cell=cell, inner=inner)


class AttentionReplay:
    """One puzzle's recorded states, kept so that every further map (another cell, head, layer or
    step) costs one replayed update instead of a new run. The weights of the last update asked
    about are kept too, so moving the query cell costs nothing."""

    def __init__(self, model: Any, inputs: np.ndarray, puzzle_identifier: int, *, segments: int,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.model = act_model(model)
        self.batch = make_batch(self.model, np.asarray(inputs), np.asarray([puzzle_identifier]))
        self.recorder = StateRecorder()
        run_segments(self.model, self.batch, segments, self.recorder, should_stop)
        self._last: tuple[tuple[Any, ...], torch.Tensor] | None = None

    @property
    def steps(self) -> int:
        """High-level steps recorded (maps can be asked for steps 0 to steps − 1)."""
        return len(self.recorder.highs)

    def map(self, *, step: int, level: str, layer: int, head: int, cell: int, inner: int = -1) -> AttentionMap:
        """The weights of grid cell `cell` over the prefix and the grid (see :func:`attention_map`)."""
        _check_request(self.model, level, layer, head, cell)
        if not 0 <= step < self.steps:
            raise UserError(f"Step {step} was not run; steps 0 to {self.steps - 1} were.")
        weights = self.head_weights(step=step, level=level, layer=layer, inner=inner)
        prefix = self.model.inner.puzzle_emb_len
        row = weights[head, prefix + cell].double().cpu().numpy()
        return AttentionMap(level=level, step=step, layer=layer, head=head, cell=cell,
                            grid_weights=row[prefix:], prefix_weights=row[:prefix])

    def head_weights(self, *, step: int, level: str, layer: int, inner: int = -1) -> torch.Tensor:
        """Every head's weights ``[heads, prefix + seq_len, prefix + seq_len]`` of that update and layer."""
        key = (step, level, layer, inner % int(self.model.config.L_cycles))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        act = self.model
        module = _check_request(act, level, layer, 0, 0)
        with torch.inference_mode():
            was_training = act.training
            act.eval()
            try:
                z, injection = update_inputs(act, self.recorder, self.batch, step=step, level=level, inner=inner)
                cos_sin = act.inner.cos_sin()
                h = z + injection
                for block in module.layers[:layer]:
                    h = block(h, cos_sin)
                weights = module.layers[layer].self_attn.attention_weights(h, cos_sin)[0]
            finally:
                act.train(was_training)
        self._last = (key, weights)
        return weights


def _check_request(model: ACTModel, level: str, layer: int, head: int, cell: int) -> nn.Module:
    """The module `level` names, after checking the request fits the model (UserError if not)."""
    if level not in ("H", "L"):
        raise UserError(f"Level must be 'H' or 'L', not {level!r}.")
    inner = model.inner
    has_h = hasattr(inner, "H_level")
    module = inner.H_level if (level == "H" and has_h) else inner.L_level
    if getattr(model.config, "mlp_t", False):
        raise UserError("This TRM mixes positions with an MLP (mlp_t) instead of attention, so it has no "
                        "attention weights to show.")
    if not 0 <= layer < len(module.layers):
        raise UserError(f"Layer {layer} does not exist; the {level} level has {len(module.layers)} (0 to "
                        f"{len(module.layers) - 1}).")
    heads = int(model.config.num_heads)
    if not 0 <= head < heads:
        raise UserError(f"Head {head} does not exist; the model has {heads} (0 to {heads - 1}).")
    seq_len = int(model.config.seq_len)
    if not 0 <= cell < seq_len:
        raise UserError(f"Cell {cell} is outside the puzzle (0 to {seq_len - 1}).")
    return module


def update_inputs(model: ACTModel, recorder: StateRecorder, batch: dict[str, torch.Tensor], *, step: int,
                  level: str, inner: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """``(state, injection)`` the chosen update started from: the module computes
    ``module(state, injection)``. Rebuilt from the recorded chain of states, in the segment
    loop's order (every low-level update reads ``z_H + x``; the high-level one reads ``z_L``)."""
    cycles = int(model.config.L_cycles)
    if step >= len(recorder.highs):
        raise UserError(f"Step {step} was not run; only {len(recorder.highs)} were.")
    z_h_before = recorder.highs[step - 1] if step > 0 else recorder.starts[0].z_H
    if level == "H":
        return z_h_before, recorder.lows[(step + 1) * cycles - 1]
    if not -cycles <= inner < cycles:
        raise UserError(f"Low-level update {inner} does not exist; each step has {cycles} (0 to {cycles - 1}).")
    j = step * cycles + inner % cycles
    z_l_before = recorder.lows[j - 1] if j > 0 else recorder.starts[0].z_L
    x = model.inner.input_embeddings(batch["inputs"], batch["puzzle_identifiers"])
    return z_l_before, z_h_before + x
