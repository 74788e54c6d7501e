"""The suite benchmark's reading of pytest's summary line: the counts, and when the suite passed."""

from __future__ import annotations

from benchmarks.suite import suite_passed, summary_counts, outcome_total

PASSING = """bringing up nodes...
........................................................................ [ 97%]
.................................                                        [100%]
=========================== short test summary info ============================
SKIPPED [1] tests/training/test_device.py:95: needs a CUDA GPU
1162 passed, 23 skipped in 452.29s (0:07:32)
"""


def test_a_passing_run_is_counted_and_passes():
    counts = summary_counts(PASSING)
    assert counts == {"passed": 1162, "skipped": 23}
    assert outcome_total(counts) == 1185
    assert suite_passed(0, counts)


def test_failures_errors_and_warnings_are_counted_and_fail_the_suite():
    out = "FAILED tests/x.py::test_a - assert 1 == 2\n3 failed, 1159 passed, 23 skipped, 1 error, 2 warnings in 401.5s"
    counts = summary_counts(out)
    assert counts == {"failed": 3, "passed": 1159, "skipped": 23, "errors": 1, "warnings": 2}
    assert outcome_total(counts) == 1186   # warnings are not tests
    assert not suite_passed(1, counts)
    assert not suite_passed(0, {"passed": 5, "errors": 2})


def test_no_summary_line_or_no_test_passed_is_not_a_passing_suite():
    assert summary_counts("Traceback (most recent call last):\nImportError: no module\n") == {}
    assert not suite_passed(0, {})
    assert summary_counts("no tests ran in 0.01s") == {}
    # A test named like a summary is not the summary: only a line with "in N s" counts.
    assert summary_counts("tests/a.py::test_2_passed PASSED\n2 passed in 1.00s\n") == {"passed": 2}
