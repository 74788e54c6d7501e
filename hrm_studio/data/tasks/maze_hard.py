"""maze-hard: 30×30 mazes whose S→G path is long, as Maze-Hard selects its mazes.

HRM's Maze-Hard keeps only 30×30 mazes whose shortest path is longer than 110 steps. Ours
are ``maze``'s perfect mazes (one path between any two rooms, so the answer is unique): a
uniform spanning tree of 14×14 rooms is a 29×29 grid, and a wall row under it and a wall
column right of it make it 30×30. S is a random room; G is drawn among the rooms at least
``min_path_length`` steps away (a step = a move to a neighbouring cell; the path has
``length - 1`` cells marked ``o``); if S has none, another S is tried, then another maze.
About 2 % of room pairs are that far apart in such mazes at the default of 110 (measured),
so S and G are drawn from BFS distances rather than by rejecting whole mazes: ~16 ms CPU a
maze at 110, ~55 ms at 130 (measured).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from hrm_studio.data.tasks.maze import (
    GOAL,
    OPEN,
    PATH,
    PATTERN,
    START,
    VOCAB_LABELS,
    WALL,
    random_maze,
)
from hrm_studio.data.tasks.spec import TaskSpec

HARD_SIZE = 30
DEFAULT_MIN_PATH = 110
_STARTS_PER_MAZE = 8
_MAX_MAZES = 1000


@dataclass(frozen=True)
class HardMaze:
    """Input grid (tokens ``# SG`` = 1..4), output grid (path marked ``o`` = 5), path steps."""

    question: np.ndarray
    answer: np.ndarray
    path_length: int


def distances(grid: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Steps from ``start`` to every open cell (breadth-first); -1 for walls and unreachable."""
    rows, cols = grid.shape
    dist = np.full(grid.shape, -1, dtype=np.int64)
    dist[start] = 0
    open_cell = (grid != WALL).tolist()
    seen = dist.tolist()
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        d = seen[r][c] + 1
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nr < rows and 0 <= nc < cols and open_cell[nr][nc] and seen[nr][nc] < 0:
                seen[nr][nc] = d
                queue.append((nr, nc))
    return np.array(seen, dtype=np.int64)


def hard_maze(rng: np.random.Generator, size: int = HARD_SIZE,
              min_path_length: int = DEFAULT_MIN_PATH) -> HardMaze:
    """A ``size``×``size`` perfect maze with S and G at least ``min_path_length`` steps apart.

    ValueError when ``_MAX_MAZES`` mazes hold no such pair (the length is out of reach).
    """
    if size < 5:
        raise ValueError(f"a maze needs a side of at least 5, not {size}")
    rooms = (size - 1) // 2
    for _ in range(_MAX_MAZES):
        maze = np.full((size, size), WALL, dtype=np.int32)
        maze[: 2 * rooms + 1, : 2 * rooms + 1] = random_maze(rng, rooms)
        for _ in range(_STARTS_PER_MAZE):
            sr, sc = 2 * rng.integers(rooms, size=2) + 1
            dist = distances(maze, (int(sr), int(sc)))
            far = np.argwhere(dist[1::2, 1::2][:rooms, :rooms] >= max(min_path_length, 1))
            if len(far):
                gr, gc = 2 * far[rng.integers(len(far))] + 1
                return _mark(maze, dist, (int(sr), int(sc)), (int(gr), int(gc)))
    raise ValueError(f"no {size}x{size} maze with a path of {min_path_length}+ steps in {_MAX_MAZES} tries")


def _path_back(dist: np.ndarray, goal: tuple[int, int]) -> list[tuple[int, int]]:
    """The start → goal path read off the breadth-first distances already computed (one step down
    at a time; a perfect maze has exactly one such path), instead of a second search."""
    rows, cols = dist.shape
    path = [goal]
    while dist[path[-1]] > 0:
        r, c = path[-1]
        d = dist[r, c] - 1
        path.append(next((nr, nc) for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
                         if 0 <= nr < rows and 0 <= nc < cols and dist[nr, nc] == d))
    return path[::-1]


def _mark(maze: np.ndarray, dist: np.ndarray, start: tuple[int, int], goal: tuple[int, int]) -> HardMaze:
    path = _path_back(dist, goal)
    question = maze.copy()
    question[start], question[goal] = START, GOAL
    answer = question.copy()
    for cell in path[1:-1]:
        answer[cell] = PATH
    return HardMaze(question, answer, len(path) - 1)


@dataclass(frozen=True)
class HardMazeSource:
    """PatternSource over ``size``×``size`` mazes with a path of ``min_path_length``+ steps."""

    size: int = HARD_SIZE
    min_path_length: int = DEFAULT_MIN_PATH

    def capacity(self, pattern: str) -> None:
        return None  # astronomically many; duplicates are removed by the builder

    def sample(
        self, rng: np.random.Generator, pattern: str, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        inputs = np.empty((n, self.size, self.size), dtype=np.int32)
        outputs = np.empty_like(inputs)
        for k in range(n):
            found = hard_maze(rng, self.size, self.min_path_length)
            inputs[k], outputs[k] = found.question, found.answer
        return inputs, outputs


SPECS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="maze-hard",
        description=f"Mark the one path from S to G through a 30x30 perfect maze; S and G are at "
        f"least {DEFAULT_MIN_PATH} steps apart, as in Maze-Hard.",
        default_grid_size=HARD_SIZE,
        default_blanks=0,
        pattern_names=(PATTERN,),
        display="maze",
        vocab_labels=VOCAB_LABELS,
        eos=False,
        grid_sizes=(HARD_SIZE,),
        blank_range=None,
        canvas_ok=True,
        label_values=(WALL, OPEN, START, GOAL, PATH),
        make_source=lambda grid_size, blanks, seed: HardMazeSource(grid_size),
    ),
)
