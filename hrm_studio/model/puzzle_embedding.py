"""Per-puzzle learned embedding, trained by its own sparse sign-SGD.

Each puzzle identifier owns a row of ``weights``. A batch only touches a handful of rows, so
a dense optimiser (Adam state for every row, weight decay on rows not seen this step) would
be both wasteful and wrong. As in the official HRM code the table is therefore a persistent
*buffer*, not a parameter: the main optimiser never sees it, checkpoints still hold it (key
``puzzle_emb.weights``), and :meth:`PuzzleEmbedding.sign_sgd_step` updates only the rows
the last batch used.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .layers import trunc_normal_init_

__all__ = ["PuzzleEmbedding"]


class PuzzleEmbedding(nn.Module):
    """Embedding table ``weights [num_identifiers, ndim]`` with a sparse, sign-SGD update.

    Training flow, once per optimiser step::

        out = emb(ids)                 # training + grad: gathers rows into a leaf tensor
        loss.backward()                # grad lands on emb.local_weights
        emb.sign_sgd_step(lr, wd)      # updates those rows, then forgets the locals

    ``local_weights`` / ``local_ids`` are plain attributes (not buffers), so they never reach
    a state dict. Only the most recent gradient-enabled forward is remembered: a second such
    forward before :meth:`sign_sgd_step` replaces the first (no accumulation), exactly like
    the official code. Forwards under ``torch.no_grad()`` (evaluation, the ACT wrapper's
    Q-target pass) read ``weights`` directly and leave the locals alone.
    """

    def __init__(self, num_identifiers: int, ndim: int, cast_to: torch.dtype, init_std: float = 0.0) -> None:
        super().__init__()
        self.cast_to = cast_to
        # Zero init (official init_std=0): a new puzzle starts with no identity of its own.
        self.register_buffer(
            "weights", trunc_normal_init_(torch.empty(num_identifiers, ndim), std=init_std), persistent=True
        )
        self.local_weights: Optional[torch.Tensor] = None
        self.local_ids: Optional[torch.Tensor] = None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            # A fresh leaf: autograd stops here, so the grad is per batch row, not per table row.
            local = self.weights[ids].detach().requires_grad_(True)
            self.local_weights = local
            self.local_ids = ids.detach()
            return local if local.dtype == self.cast_to else local.to(self.cast_to)
        rows = self.weights[ids]
        return rows if rows.dtype == self.cast_to else rows.to(self.cast_to)

    @torch.no_grad()
    def sign_sgd_step(self, lr: float, weight_decay: float) -> int:
        """Apply ``w = w * (1 - lr * wd) - lr * sign(g)`` to the rows used by the last batch.

        Gradients of batch rows that share an identifier are summed first (scatter-add), so a
        puzzle seen twice in a batch still moves by one ``lr`` step. Rows not in the batch are
        left untouched (no decay either). Clears the locals afterwards. Returns the number of
        table rows updated (0 when there was no gradient, e.g. after an eval forward).
        """
        local, ids = self.local_weights, self.local_ids
        self.zero_local_grad()
        if local is None or ids is None or local.grad is None:
            return 0
        grad = local.grad
        unique_ids, inverse = torch.unique(ids.to(torch.long), return_inverse=True)
        summed = torch.zeros(unique_ids.shape[0], grad.shape[-1], dtype=grad.dtype, device=grad.device)
        summed.scatter_add_(0, inverse.unsqueeze(-1).expand(-1, grad.shape[-1]), grad)
        rows = self.weights[unique_ids]
        rows.mul_(1.0 - lr * weight_decay).add_(torch.sign(summed).to(rows.dtype), alpha=-lr)
        self.weights[unique_ids] = rows
        return int(unique_ids.shape[0])

    def zero_local_grad(self) -> None:
        """Forget the rows gathered by the last training forward, and their gradient.

        :meth:`sign_sgd_step` calls this itself; call it directly to skip an update (for
        example when a step is abandoned) so a stale gradient is never applied later.
        """
        self.local_weights = None
        self.local_ids = None

    def extra_repr(self) -> str:
        return f"num_identifiers={self.weights.shape[0]}, ndim={self.weights.shape[1]}, cast_to={self.cast_to}"
