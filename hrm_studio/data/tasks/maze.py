"""maze: mark the path from S to G.

Grids follow the official maze dataset's characters: ``#`` wall, `` `` open, ``S``
start, ``G`` goal, ``o`` path → tokens 1..5 (PAD 0), no EOS frame. A grid of odd side
n has rooms at odd (row, col) and walls between them; the open cells form a uniform
random spanning tree of the rooms (Wilson's algorithm), a "perfect" maze, so there is
exactly one simple path between any two rooms and the answer is unique. S and G are
two different random rooms; the label is the same maze with the path cells between
them (corridors included, S and G excluded) marked ``o``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from hrm_studio.data.tasks.spec import TaskSpec

WALL, OPEN, START, GOAL, PATH = 1, 2, 3, 4, 5
VOCAB_LABELS: tuple[str, ...] = ("PAD", "#", " ", "S", "G", "o")
PATTERN = "maze"
MAZE_GRID_SIZES: tuple[int, ...] = tuple(range(5, 60, 2))
_EXACT_COUNT_ROOMS = 5  # count spanning trees exactly up to 5×5 rooms; beyond, "plenty"


@dataclass(frozen=True)
class MazeSource:
    """PatternSource over ``size``×``size`` perfect mazes (``size`` odd, ≥ 5)."""

    size: int

    @property
    def rooms(self) -> int:
        return (self.size - 1) // 2

    def capacity(self, pattern: str) -> int | None:
        r = self.rooms
        if r > _EXACT_COUNT_ROOMS:
            return None
        cells = r * r
        return spanning_tree_count(r) * cells * (cells - 1)

    def sample(
        self, rng: np.random.Generator, pattern: str, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        inputs = np.empty((n, self.size, self.size), dtype=np.int32)
        outputs = np.empty_like(inputs)
        cells = self.rooms * self.rooms
        for k in range(n):
            maze = random_maze(rng, self.rooms)
            start, goal = rng.choice(cells, size=2, replace=False)
            s = _room_cell(int(start), self.rooms)
            g = _room_cell(int(goal), self.rooms)
            path = shortest_path(maze, s, g)
            maze[s], maze[g] = START, GOAL
            inputs[k] = maze
            for cell in path[1:-1]:
                maze[cell] = PATH
            outputs[k] = maze
        return inputs, outputs


def _room_cell(room: int, rooms: int) -> tuple[int, int]:
    r, c = divmod(room, rooms)
    return 2 * r + 1, 2 * c + 1


def random_maze(rng: np.random.Generator, rooms: int) -> np.ndarray:
    """A (2·rooms+1)² grid of WALL / OPEN whose open cells form a uniform spanning tree.

    Wilson's algorithm: loop-erased random walks from each room not yet in the tree
    until they hit it. Walk directions come from one pre-drawn buffer (fast in Python).
    """
    side = 2 * rooms + 1
    grid = np.full((side, side), WALL, dtype=np.int32)
    total = rooms * rooms
    in_tree = [False] * total
    in_tree[int(rng.integers(total))] = True
    neighbours = [
        [
            nr * rooms + nc
            for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
            if 0 <= nr < rooms and 0 <= nc < rooms
        ]
        for r in range(rooms)
        for c in range(rooms)
    ]
    draws = rng.random(64 * total).tolist()
    pos = 0
    next_room = [0] * total
    for first in rng.permutation(total).tolist():
        if in_tree[first]:
            continue
        room = first
        while not in_tree[room]:  # random walk; remembering only the last exit erases loops
            if pos == len(draws):
                draws = rng.random(64 * total).tolist()
                pos = 0
            options = neighbours[room]
            next_room[room] = options[int(draws[pos] * len(options))]
            pos += 1
            room = next_room[room]
        room = first
        while not in_tree[room]:
            in_tree[room] = True
            a, b = _room_cell(room, rooms), _room_cell(next_room[room], rooms)
            grid[a] = OPEN
            grid[(a[0] + b[0]) // 2, (a[1] + b[1]) // 2] = OPEN
            room = next_room[room]
    for room in range(total):
        grid[_room_cell(room, rooms)] = OPEN
    return grid


def shortest_path(
    grid: np.ndarray, start: tuple[int, int], goal: tuple[int, int]
) -> list[tuple[int, int]]:
    """Cells of a shortest path start → goal through non-wall cells (breadth-first search)."""
    rows, cols = grid.shape
    parent: dict[tuple[int, int], tuple[int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            break
        r, c = cell
        for nxt in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if (
                0 <= nxt[0] < rows
                and 0 <= nxt[1] < cols
                and grid[nxt] != WALL
                and nxt not in parent
            ):
                parent[nxt] = cell
                queue.append(nxt)
    if goal not in parent:
        raise ValueError("goal is not reachable from start")
    path = [goal]
    while (prev := parent[path[-1]]) is not None:
        path.append(prev)
    return path[::-1]


def spanning_tree_count(rooms: int) -> int:
    """Number of spanning trees of the rooms×rooms grid graph (Kirchhoff, exact integers)."""
    total = rooms * rooms
    lap = [[0] * total for _ in range(total)]
    for r in range(rooms):
        for c in range(rooms):
            i = r * rooms + c
            for nr, nc in ((r + 1, c), (r, c + 1)):
                if nr < rooms and nc < rooms:
                    j = nr * rooms + nc
                    lap[i][j] = lap[j][i] = -1
                    lap[i][i] += 1
                    lap[j][j] += 1
    return _determinant([row[1:] for row in lap[1:]])


def _determinant(m: list[list[int]]) -> int:
    """Exact integer determinant (Bareiss fraction-free elimination)."""
    m = [row[:] for row in m]
    n = len(m)
    if n == 0:
        return 1
    sign, prev = 1, 1
    for k in range(n - 1):
        if m[k][k] == 0:
            swap = next((i for i in range(k + 1, n) if m[i][k] != 0), None)
            if swap is None:
                return 0
            m[k], m[swap] = m[swap], m[k]
            sign = -sign
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) // prev
        prev = m[k][k]
    return sign * m[n - 1][n - 1]


SPECS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="maze",
        description="Mark the one path from S to G through a random perfect maze.",
        default_grid_size=9,
        default_blanks=0,
        pattern_names=(PATTERN,),
        display="maze",
        vocab_labels=VOCAB_LABELS,
        eos=False,
        grid_sizes=MAZE_GRID_SIZES,
        blank_range=None,
        canvas_ok=True,
        label_values=(WALL, OPEN, START, GOAL, PATH),
        make_source=lambda grid_size, blanks, seed: MazeSource(grid_size),
    ),
)
