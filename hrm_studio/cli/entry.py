"""`main`: parse, run the command's handler, and turn what went wrong into one sentence and an exit code."""

from __future__ import annotations

import sys
from typing import Sequence

from hrm_studio.cli.args import EXIT_INTERRUPTED, EXIT_USER_ERROR
from hrm_studio.cli.gui_command import bare_paths_mean_gui
from hrm_studio.cli.output import reader_went_away
from hrm_studio.cli.parser import build_parser
from hrm_studio.errors import UserError


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USER_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        words = bare_paths_mean_gui(list(sys.argv[1:] if argv is None else argv), parser.commands)
        args = parser.parse_args(words)
        return args.handler(args)
    except BrokenPipeError:
        return reader_went_away()
    except UserError as exc:
        return _fail(str(exc))
    except MemoryError:
        return _fail("HRM Studio ran out of memory; lower batch_size, hidden_size or train_size and try again.")
    except OSError as exc:  # a file problem no command turned into a sentence of its own
        where = f" {exc.filename}" if exc.filename else ""
        return _fail(f"could not read or write{where}: {exc.strerror or exc}.")
    except KeyboardInterrupt:
        print("error: interrupted; the run folder keeps every finished epoch (resume it with "
              "'hrm-studio train --resume RUN_FOLDER').", file=sys.stderr)
        return EXIT_INTERRUPTED
