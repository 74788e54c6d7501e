"""A tiny model with random weights saved as a checkpoint, for the Reasoning and Puzzle editor tabs.

Random weights are enough: the tabs' tests check what is drawn and when, not what a model learned,
and building one takes milliseconds where training takes seconds."""

from __future__ import annotations

from pathlib import Path

import torch

from hrm_studio.config import RunConfig
from hrm_studio.gui.inspector.model_jobs import ModelJobs
from hrm_studio.gui.predictions.prediction_jobs import PredictionSource
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.data_source import load_data
from hrm_studio.training.model_factory import build_head, model_config


def random_checkpoint(config: RunConfig, path: Path) -> Path:
    torch.manual_seed(0)
    head = build_head(config, model_config(config, load_data(config).info))
    return ckpt.save_checkpoint(path, {"model": head.model.state_dict(), "config": config.to_dict()})


def jobs_for(config: RunConfig, tmp_path: Path) -> ModelJobs:
    """ModelJobs asking a random-weights model of `config`."""
    source = PredictionSource(random_checkpoint(config, tmp_path / "tiny.pt"), config)
    jobs = ModelJobs()
    jobs.source = lambda: source
    return jobs
