"""`hrm-studio`: the desktop app with no arguments, headless subcommands otherwise.

    hrm-studio                      open the Studio window
    hrm-studio PATH…                open run folders or checkpoints in it (as `gui PATH…`)
    hrm-studio train …              train headless, one line per epoch (a progress bar on a terminal)
    hrm-studio eval CHECKPOINT …    score a checkpoint (or a run folder's best) on a task or dataset folder
    hrm-studio export CHECKPOINT …  write weights as .pt, .safetensors or an official folder
    hrm-studio dataset build …      write a generated task in the official dataset layout
    hrm-studio sweep …              train a grid or random draws of settings, one run at a time
    hrm-studio report RUN_DIR       training_metrics.png, prediction_vs_groundtruth.png, report.html
    hrm-studio completion bash|zsh  the shell completion script

A mistake in the command line or in a file is reported as one sentence and exit code 2;
Ctrl-C ends with 130 after a clean stop. Where things live: parser.py (the command table),
entry.py (main and its exit codes), one module per group of commands, progress.py (the bar).
"""

from hrm_studio.cli.args import EXIT_INTERRUPTED, EXIT_USER_ERROR
from hrm_studio.cli.entry import main
from hrm_studio.cli.output import format_epoch
from hrm_studio.cli.parser import build_parser
from hrm_studio.cli.settings import resolve_config

__all__ = ["EXIT_INTERRUPTED", "EXIT_USER_ERROR", "build_parser", "format_epoch", "main", "resolve_config"]
