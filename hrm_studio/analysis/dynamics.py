"""State dynamics: how far each update moves a state, and a 2-D picture of z_H's path.

Residuals are the plain Euclidean norm over the whole state (prefix positions included, all
hidden units): the HRM paper's forward residual. A 2-D PCA fitted on the puzzle's own
trajectory is enough to see whether the state converges, cycles or wanders.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["pca_2d", "residuals", "summary_vectors"]


def residuals(start: torch.Tensor, states: list[torch.Tensor]) -> np.ndarray:
    """``||s_t − s_{t−1}||`` for batch row 0 of each state, ``s_{−1}`` being `start` (float64)."""
    if not states:
        return np.zeros(0)
    chain = torch.stack([start[0]] + [s[0] for s in states]).double()
    return torch.linalg.vector_norm(chain[1:] - chain[:-1], dim=(1, 2)).cpu().numpy()


def summary_vectors(states: list[torch.Tensor], prefix: int, cell: int | None) -> np.ndarray:
    """One vector per state (batch row 0): the mean over grid positions, or the chosen cell's."""
    rows = []
    for z in states:
        grid = z[0, prefix:].double()
        rows.append(grid.mean(dim=0) if cell is None else grid[cell])
    return torch.stack(rows).cpu().numpy()


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """The first two principal components of `vectors` ``[n, d]`` (zeros where there are fewer).
    Signs are fixed so each component's largest loading is positive: the same trajectory always
    draws the same way round."""
    out = np.zeros((vectors.shape[0], 2))
    if vectors.shape[0] < 2:
        return out
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    keep = min(2, int((singular > 1e-12 * max(float(singular[0]), 1e-300)).sum()))
    for i in range(keep):
        axis = vt[i] * np.sign(vt[i][np.argmax(np.abs(vt[i]))])
        out[:, i] = centred @ axis
    return out
