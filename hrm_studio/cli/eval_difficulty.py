"""`eval` (examples protocol): accuracy by difficulty — rating, givens, path length — and the Sudoku
rule breaks of the predictions (evaluation/difficulty.py), as JSON and as a short table."""

from __future__ import annotations

from typing import Any

from hrm_studio.cli.output import pct


def difficulty_json(config: Any, split: str, ps: Any) -> dict[str, Any]:
    """{"difficulty": …} for `eval --json`: the data set's ratings are read when it keeps them."""
    from hrm_studio.evaluation.difficulty import dataset_ratings, difficulty_report

    ratings = dataset_ratings(config.data.dataset_dir, split, ps.indices)
    return {"difficulty": difficulty_report(ps, ratings)}


def print_difficulty(report: dict[str, Any]) -> None:
    """One line per group of each measure, then the rule breaks of a Sudoku split."""
    for measure in report["by"].values():
        groups = measure["groups"]
        if len(groups) < 2:   # every puzzle alike: nothing to compare
            continue
        print(f"  by {measure['title'].lower()}:")
        for g in groups:
            span = str(g["low"]) if g["low"] == g["high"] else f"{g['low']}-{g['high']}"
            print(f"    {span:>11}  {g['puzzles']:>6} puzzles  token {pct(g['token_accuracy'])}  "
                  f"exact {pct(g['exact_match_accuracy'])}")
    broken = report.get("sudoku_violations")
    if broken is not None:
        units = ", ".join(_many(broken[key], noun) for key, noun in (("rows", "row"), ("columns", "column"),
                                                                      ("boxes", "box")))
        print(f"  Sudoku rules    {broken['puzzles_breaking_a_rule']} of {broken['puzzles']} predictions repeat a "
              f"digit ({_many(broken['cells'], 'cell')}; {units}); {_many(broken['cells_not_a_digit'], 'cell')} "
              f"left without a digit")


def _many(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else ('es' if noun.endswith('x') else 's')}"
