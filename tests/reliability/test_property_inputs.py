"""Property-based: random settings and random dataset arrays give a clean UserError or a
tiny run that completes — never a traceback, a hang or a half-written run folder.

Bounded (derandomized, a few dozen examples each) so the file runs in well under a minute.
Values are drawn so that every *valid* setting is cheap to train; wild values are out of
range, of the wrong type, NaN/inf, or so large the memory check must refuse them (the
machine is made to look like it has 1 GB free).
"""

from __future__ import annotations

import json
import math
import string
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hrm_studio.cli import main
from hrm_studio.config import RunConfig
from hrm_studio.errors import UserError
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.trainer import Trainer
from tests.reliability.helpers import TINY_ARGS, tiny

ONE_GB = 2**30
PROPERTY = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Cheap valid values per setting (training any mix of them takes well under a second).
CHEAP = {
    "hidden_size": [8, 16, 32], "num_heads": [1, 2, 4], "expansion": [0.5, 1.0, 2.0], "H_layers": [1, 2],
    "L_layers": [1, 2], "H_cycles": [1, 2, 3], "L_cycles": [1, 2, 3], "puzzle_emb_ndim": [0, 8, 32],
    "pos_encodings": ["rope", "learned"], "halt_max_steps": [1, 2, 3], "halt_exploration_prob": [0.0, 0.5, 1.0],
    "forward_dtype": ["float32", "bfloat16"], "loss_type": ["softmax_cross_entropy", "stablemax_cross_entropy"],
    "rope_theta": [1.0, 10000.0], "rms_norm_eps": [1e-5, 0.1],
    "task": ["copy-increment", "copy", "flip", "rotate", "recolor", "sudoku-4x4", "maze"],
    "train_size": [1, 2, 17, 48], "test_size": [1, 5], "grid_size": [0, 2, 3, 4], "shared_identifier": [True, False],
    "pattern_mix": ["", "copy=1", "copy=2,increment=1", "increment=0"], "label_noise": [0.0, 0.5],
    "blanks": [0, 4], "epochs": [1, 2], "batch_size": [1, 3, 16, 64], "optimizer": ["adam", "adamw"],
    "lr": [1e-4, 1e-2, 1.0], "beta1": [0.0, 0.9], "beta2": [0.5, 0.99], "weight_decay": [0.0, 10.0],
    "puzzle_emb_lr": [0.0, 10.0], "lr_schedule": ["constant", "cosine"], "lr_warmup_epochs": [0.0, 0.5, 5.0],
    "lr_min_ratio": [0.0, 1.0], "grad_clip": [0.0, 1e-6, 1.0], "eval_interval": [1, 2, 99],
    "stop_at_exact": [0.0, 0.5, 1.0], "early_stopping_metric": ["val_exact_match_accuracy", "val_loss", "nope"],
    "early_stopping_patience": [0, 1], "seed": [0, 2**31 - 1], "num_threads": [1],
    "dataset_dir": ["", "/nonexistent/dataset", "."], "encoding": ["tight"],
}
# Valid but far too big for 1 GB: the memory check must refuse them before allocating.
HUGE = {"hidden_size": 4096, "batch_size": 8192, "train_size": 1_000_000}

WEIRD_TEXT = ["", "nan", "inf", "-inf", "-1", "1e400", "0x10", "abc", " 12 ", "１２", "None", "[]", "1,5", "∞", "true"]

wild = st.one_of(
    st.integers(-10**12, -1), st.integers(10**7, 10**15),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not math.isfinite(x) or x < -1e-6 or x > 1e8),
    st.sampled_from(WEIRD_TEXT), st.text(string.ascii_letters + "=,.-/", max_size=8),
    st.none(), st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.just("a"), st.integers(), max_size=1),
)


@st.composite
def raw_settings(draw) -> object:
    names = draw(st.lists(st.sampled_from(sorted(CHEAP)), max_size=6, unique=True))
    flat = {}
    for name in names:
        kind = draw(st.sampled_from(["cheap", "cheap", "wild", "huge"] if name in HUGE else ["cheap", "cheap", "wild"]))
        flat[name] = (draw(st.sampled_from(CHEAP[name])) if kind == "cheap" else
                      HUGE[name] if kind == "huge" else draw(wild))
    shape = draw(st.sampled_from(["flat", "nested", "junk-key", "not-a-dict", "bad-section"]))
    if shape == "nested":
        from hrm_studio.config import SECTIONS, section_field_names

        nested: dict = {}
        for name, value in flat.items():
            section = next(s for s in SECTIONS if name in section_field_names(s))
            nested.setdefault(section, {})[name] = value
        return nested
    if shape == "junk-key":
        flat[draw(st.text(string.ascii_lowercase + "_", min_size=1, max_size=10))] = 1
    if shape == "not-a-dict":
        return draw(st.sampled_from([[], "model", 3, None]))
    if shape == "bad-section":
        flat["train"] = draw(st.sampled_from([[], "x", 1]))
    return flat


def _assert_clean(exc: UserError) -> None:
    text = str(exc)
    event(f"refused: {type(exc).__name__}")
    assert text and "\n" not in text, text
    assert not text.startswith("Training crashed"), text


def _assert_complete(run: Path, config: RunConfig, reason: str) -> None:
    assert reason in ("completed", "solved", "early_stopped"), reason
    event("trained")
    history = RunDir(run).read_history()
    assert history and [r["epoch"] for r in history] == list(range(1, len(history) + 1))
    assert RunDir(run).read_status()["state"] == "finished"
    torch.load(run / "checkpoints" / "final.pt", weights_only=True)


@PROPERTY
@given(raw=raw_settings())
def test_random_settings_through_from_dict(raw):
    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch("hrm_studio.costs.available_memory_bytes", return_value=ONE_GB):
        run = Path(tmp) / "run"
        try:
            config = RunConfig.from_dict(raw, base=tiny(1))
            result = Trainer(config, run).fit()
        except UserError as exc:
            _assert_clean(exc)
            assert not (run / "checkpoints" / "final.pt").exists()
            return
        _assert_complete(run, config, result.reason)


@settings(PROPERTY, max_examples=20)
@given(assignments=st.lists(st.sampled_from(sorted(CHEAP)).flatmap(
    lambda name: st.tuples(st.just(name), st.one_of(st.sampled_from(CHEAP[name]).map(str), st.sampled_from(WEIRD_TEXT),
                                                    wild.map(str)))), max_size=3))
def test_random_set_assignments_on_the_command_line(assignments):
    import contextlib
    import io

    err = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()), \
            mock.patch("hrm_studio.costs.available_memory_bytes", return_value=ONE_GB):
        argv = ["train", *TINY_ARGS, "--set", "epochs=1", "--quiet", "--out", str(Path(tmp) / "run")]
        for name, value in assignments:
            argv += ["--set", f"{name}={value}"]
        code = main(argv)
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    event("trained" if code == 0 else "refused")
    if code == 0:
        assert not lines
    else:
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err.getvalue()


# ------------------------------------------------------------------ random dataset folders

DTYPES = ["int32", "int64", "uint8", "int16", "float32", "bool"]


def _sometimes(draw, chance: int = 5) -> bool:
    """True about once in `chance` draws: each fault alone, so many folders stay trainable."""
    return draw(st.integers(1, chance)) == 1


@st.composite
def dataset_folder(draw) -> dict:
    seq = draw(st.integers(1, 10))
    vocab = draw(st.integers(1, 14))
    num_ids = draw(st.integers(1, 4))
    spec: dict = {"seq": seq, "vocab": vocab, "num_ids": num_ids,
                  "names": num_ids + (draw(st.sampled_from([-1, 1])) if _sometimes(draw, 8) else 0),
                  "dtype": draw(st.sampled_from(DTYPES)) if _sometimes(draw, 3) else "int32", "splits": {}}
    for split, most in (("train", 6), ("test", 3)):
        n = draw(st.integers(0, most)) if _sometimes(draw, 6) else draw(st.integers(1, most))
        rows = n + draw(st.sampled_from([-1, 1])) if n and _sometimes(draw, 8) else n
        low, high = (-1, vocab) if _sometimes(draw, 6) else (0, vocab - 1)
        label_low, label_high = (-1, vocab) if _sometimes(draw, 6) else (0, vocab - 1)
        id_low, id_high = (-1, num_ids) if _sometimes(draw, 6) else (0, num_ids - 1)
        spec["splits"][split] = {
            "inputs": draw(arrays(np.int64, (n, seq), elements=st.integers(low, high))),
            "labels": draw(arrays(np.int64, (rows, seq),
                                  elements=st.one_of(st.integers(label_low, label_high), st.just(-100)))),
            "ids": draw(arrays(np.int64, (n,), elements=st.integers(id_low, id_high))),
            "meta": draw(st.dictionaries(st.sampled_from(["vocab_size", "seq_len", "num_puzzle_identifiers",
                                                          "sets", "pad_id", "ignore_label_id"]),
                                         st.one_of(st.integers(-2, 20), st.just("x"), st.just([]), st.none()),
                                         min_size=1, max_size=1)) if _sometimes(draw, 8) else {},
        }
    return spec


def _write_folder(root: Path, spec: dict) -> None:
    root.mkdir()
    (root / "identifiers.json").write_text(json.dumps([f"id{i}" for i in range(max(spec["names"], 0))]))
    for split, part in spec["splits"].items():
        folder = root / split
        folder.mkdir(parents=True)
        n = len(part["inputs"])
        meta = {"pad_id": 0, "ignore_label_id": -100, "blank_identifier_id": 0, "vocab_size": spec["vocab"],
                "seq_len": spec["seq"], "num_puzzle_identifiers": spec["num_ids"], "total_groups": n,
                "mean_puzzle_examples": 1.0, "sets": ["all"] if n else []}
        meta.update(part["meta"])
        (folder / "dataset.json").write_text(json.dumps(meta))
        if n:
            dtype = spec["dtype"]
            np.save(folder / "all__inputs.npy", part["inputs"].astype(dtype))
            np.save(folder / "all__labels.npy", part["labels"].astype(dtype if dtype != "uint8" else "int32"))
            np.save(folder / "all__puzzle_identifiers.npy", part["ids"].astype("int32"))
            np.save(folder / "all__puzzle_indices.npy", np.arange(n + 1, dtype=np.int32))
            np.save(folder / "all__group_indices.npy", np.arange(n + 1, dtype=np.int32))


@settings(PROPERTY, max_examples=30)
@given(spec=dataset_folder())
def test_random_dataset_arrays_written_as_an_official_folder(spec):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ds"
        _write_folder(folder, spec)
        run = Path(tmp) / "run"
        config = tiny(1)
        config.set("dataset_dir", str(folder))
        try:
            result = Trainer(config, run).fit()
        except UserError as exc:
            _assert_clean(exc)
            return
        _assert_complete(run, config, result.reason)
