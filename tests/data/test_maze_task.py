"""maze: perfect mazes, the marked path is the one shortest S→G path."""

from collections import deque

import numpy as np
import pytest

from hrm_studio.data import TaskOptions, make_task
from hrm_studio.data.grid import IGNORE, PAD, decode_sequence
from hrm_studio.data.tasks.maze import spanning_tree_count
from hrm_studio.errors import ConfigError

WALL, OPEN, START, GOAL, PATH = 1, 2, 3, 4, 5


def bfs(grid, start):
    dist = {start: 0}
    parent = {start: None}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            inside = 0 <= nxt[0] < grid.shape[0] and 0 <= nxt[1] < grid.shape[1]
            if inside and grid[nxt] != WALL and nxt not in dist:
                dist[nxt] = dist[(r, c)] + 1
                parent[nxt] = (r, c)
                queue.append(nxt)
    return dist, parent


def check_maze(inp, lab):
    n = inp.shape[0]
    rooms = (n - 1) // 2
    assert set(np.unique(inp)) <= {WALL, OPEN, START, GOAL}
    assert (inp == START).sum() == 1 and (inp == GOAL).sum() == 1
    assert (inp[0] == WALL).all() and (inp[-1] == WALL).all()
    assert (inp[:, 0] == WALL).all() and (inp[:, -1] == WALL).all()
    assert (inp[1::2, 1::2] != WALL).all()  # every room is open
    open_cells = inp != WALL
    assert open_cells.sum() == 2 * rooms * rooms - 1  # rooms + (rooms - 1) corridors: a tree
    start = tuple(np.argwhere(inp == START)[0])
    goal = tuple(np.argwhere(inp == GOAL)[0])
    dist, parent = bfs(inp, start)
    assert len(dist) == open_cells.sum()  # connected: a spanning tree, so paths are unique
    path, cell = set(), parent[goal]
    while cell != start:
        path.add(cell)
        cell = parent[cell]
    marked = {tuple(x) for x in np.argwhere(lab == PATH)}
    assert marked == path and len(marked) == dist[goal] - 1
    unchanged = lab != PATH
    np.testing.assert_array_equal(lab[unchanged], inp[unchanged])
    assert (inp[lab == PATH] == OPEN).all()


def test_maze_puzzles_tight():
    data = make_task(TaskOptions("maze", 100, 20, seed=3))
    info = data.info
    assert (info.vocab_size, info.seq_len, info.grid_shape, info.display) == (6, 81, (9, 9), "maze")
    assert info.vocab_labels == ["PAD", "#", " ", "S", "G", "o"]
    for split, n in ((data.train, 100), (data.test, 20)):
        assert split.inputs.shape == (n, 81) and split.inputs.dtype == np.int32
        assert not (split.labels == IGNORE).any()
        for inp, lab in zip(split.inputs, split.labels):
            check_maze(inp.reshape(9, 9), lab.reshape(9, 9))


def test_maze_canvas_and_other_size():
    data = make_task(TaskOptions("maze", 20, 5, grid_size=13, encoding="canvas"))
    assert data.info.seq_len == 900 and data.info.grid_shape == (30, 30)
    for inp, lab in zip(data.train.inputs, data.train.labels):
        block = decode_sequence(inp, (30, 30))
        labels = decode_sequence(lab, (30, 30))
        assert (block[13:, :] == PAD).all() and (block[:, 13:] == PAD).all()
        assert (labels[13:, :] == IGNORE).all() and (labels[:13, :13] != IGNORE).all()
        check_maze(block[:13, :13], labels[:13, :13])


def test_spanning_tree_counts():
    assert [spanning_tree_count(r) for r in (1, 2, 3, 4, 5)] == [1, 4, 192, 100352, 557568000]


def test_smallest_maze_capacity():
    # 2×2 rooms: 4 spanning trees × 4 starts × 3 goals = 48 distinct puzzles
    data = make_task(TaskOptions("maze", 40, 8, grid_size=5))
    assert len({x.tobytes() for x in np.concatenate([data.train.inputs, data.test.inputs])}) == 48
    with pytest.raises(ConfigError, match="48"):
        make_task(TaskOptions("maze", 40, 9, grid_size=5))


@pytest.mark.parametrize("size", [4, 3, 61])
def test_bad_maze_sizes(size):
    with pytest.raises(ConfigError, match="grid_size"):
        make_task(TaskOptions("maze", 5, 1, grid_size=size))
