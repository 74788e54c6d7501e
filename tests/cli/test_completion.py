"""`hrm-studio completion bash|zsh` prints a completion script made from the parser."""

from __future__ import annotations

import pytest

from hrm_studio.cli import main

COMMANDS = ("gui", "train", "sweep", "eval", "export", "dataset", "report", "presets", "completion")


@pytest.mark.parametrize("shell, file_hint", [("bash", "COMPGEN=_shtab_compgen_files"), ("zsh", ":_files")])
def test_the_script_names_every_command_and_completes_paths(shell, file_hint, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert all(command in script for command in COMMANDS)
    assert "--overwrite" in script and file_hint in script


def test_an_unknown_shell_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["completion", "tcsh"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
