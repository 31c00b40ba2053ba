"""The mutation report: how equivalent mutants are matched, counted, and found stale."""

from __future__ import annotations

from mutation.run import KILLED, Outcome, changed_lines, function_of, match_equivalents

DIFF = """--- src/songnuan/formkit/expressions.py
+++ src/songnuan/formkit/expressions.py
@@ -1,3 +1,3 @@
 def text(self) -> str:
-        return "".join(parts) or "0"
+        return "XXXX".join(parts) or "0"
"""


def test_changed_lines_keep_only_the_mutation_stripped() -> None:
    assert changed_lines(DIFF) == '- return "".join(parts) or "0"\n+ return "XXXX".join(parts) or "0"'


def test_function_of_drops_the_running_number() -> None:
    name = "songnuan.formkit.expressions.xǁSideǁtext__mutmut_31"
    assert function_of(name) == "songnuan.formkit.expressions.xǁSideǁtext"


def outcome() -> Outcome:
    statuses = {
        "m.xǁSideǁtext__mutmut_1": "killed",
        "m.xǁSideǁtext__mutmut_2": "survived",
        "m.xǁSideǁtext__mutmut_3": "timeout",
        "m.xǁSideǁtext__mutmut_4": "no tests",
    }
    diffs = {"m.xǁSideǁtext__mutmut_2": DIFF, "m.xǁSideǁtext__mutmut_4": ""}
    return Outcome("expressions", statuses, diffs=diffs)


def test_score_counts_timeouts_as_killed_and_leaves_equivalents_out() -> None:
    result = outcome()
    assert "timeout" in KILLED
    assert (result.total, result.killed, result.survivors) == (
        4,
        2,
        ["m.xǁSideǁtext__mutmut_2", "m.xǁSideǁtext__mutmut_4"],
    )
    assert result.score == 0.5
    # Listed under another running number (the function was edited since): matched by its changed lines.
    entry = {"name": "m.xǁSideǁtext__mutmut_9", "change": changed_lines(DIFF), "reason": "r"}
    match_equivalents(result, [entry])
    assert result.equivalent == {"m.xǁSideǁtext__mutmut_2": "r"}
    assert result.survivors == ["m.xǁSideǁtext__mutmut_4"]
    assert result.score == 2 / 3
    assert result.stale == []


def test_an_entry_that_matches_no_survivor_is_stale_and_not_counted() -> None:
    result = outcome()
    other = {"name": "m.xǁSideǁtext__mutmut_2", "change": "- a\n+ b", "reason": "r"}
    elsewhere = {"name": "m.xǁSideǁother__mutmut_2", "change": changed_lines(DIFF), "reason": "r"}
    match_equivalents(result, [other, elsewhere])
    assert result.equivalent == {}
    assert result.stale == [other, elsewhere]
    assert result.score == 0.5
