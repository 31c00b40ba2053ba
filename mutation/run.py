"""Mutation testing, module by module: `python -m mutation.run [engine expressions …] [--max-children N]`.

Each module is mutated by mutmut in a work folder of its own (var/mutation/<module>/: a copy of src/, tests/
and pyproject.toml with a [tool.mutmut] section naming that module and its test files), so a mutant runs only
the tests that exercise it and modules never share state. Surviving mutants that no test could ever tell apart
from the original are listed, with a reason each, in mutation/equivalent/<module>.toml; an entry is matched by
the function and the changed lines (not by mutmut's running number, which shifts when a function is edited),
and an entry that matches nothing is reported as stale.

The score of a module is killed / (mutants - listed equivalents); a timeout counts as killed (the mutant
hangs, the test run notices). The command fails when a module is below the goal (95 %) or an entry is stale.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.95
KILLED = frozenset({"killed", "timeout", "caught by type check"})


@dataclass(frozen=True)
class Module:
    source: str
    tests: tuple[str, ...]


MODULES: dict[str, Module] = {
    "engine": Module(
        "src/songnuan/formkit/engine.py",
        (
            "tests/formkit/test_engine.py",
            "tests/formkit/test_engine_boundaries.py",
            "tests/formkit/test_engine_oracle.py",
            "tests/formkit/test_rules.py",
        ),
    ),
    "expressions": Module(
        "src/songnuan/formkit/expressions.py",
        (
            "tests/formkit/test_expressions.py",
            "tests/formkit/test_expressions_properties.py",
            "tests/formkit/test_rules.py",
            "tests/formkit/test_lint.py",
        ),
    ),
    "values": Module(
        "src/songnuan/formkit/values.py",
        (
            "tests/formkit/test_values.py",
            "tests/formkit/test_values_properties.py",
            "tests/formkit/test_excel.py",
        ),
    ),
    "idnumbers": Module(
        "src/songnuan/archive/idnumbers.py",
        ("tests/archive/test_idnumbers.py", "tests/archive/test_idnumbers_boundaries.py"),
    ),
    "permissions": Module(
        "src/songnuan/orgs/permissions.py",
        ("tests/orgs", "tests/api/test_permissions.py", "tests/campaigns/test_permissions.py"),
    ),
}

# Mirrors mutmut.stats.status_by_exit_code (mutmut 3.8); anything else is "suspicious".
_STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "caught by type check",
    None: "not checked",
}


@dataclass
class Outcome:
    module: str
    statuses: dict[str, str]
    diffs: dict[str, str] = field(default_factory=dict)
    equivalent: dict[str, str] = field(default_factory=dict)  # mutant -> reason
    stale: list[dict[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def killed(self) -> int:
        return sum(status in KILLED for status in self.statuses.values())

    @property
    def survivors(self) -> list[str]:
        return sorted(m for m, s in self.statuses.items() if s not in KILLED and m not in self.equivalent)

    @property
    def score(self) -> float:
        counted = self.total - len(self.equivalent)
        return self.killed / counted if counted else 1.0


def function_of(mutant: str) -> str:
    """`songnuan.formkit.engine.xǁCompiledRuleǁevaluate__mutmut_12` → `…evaluate` (the number shifts on
    edits)."""
    return mutant.rpartition("__mutmut_")[0]


def changed_lines(diff: str) -> str:
    """The removed and added lines of a mutant's diff, stripped: what identifies the mutation."""
    lines = [
        f"{line[0]} {line[1:].strip()}"
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "\n".join(lines)


def prepare(name: str, module: Module, work: Path, max_children: int | None) -> None:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "docs", work / "docs")  # some tests check the documentation against the code
    tests = [path for path in module.tests if (ROOT / path).exists()]
    settings = (ROOT / "pyproject.toml").read_text("utf-8")
    settings += "\n[tool.mutmut]\n" + "\n".join(
        [
            'source_paths = ["src"]',
            'also_copy = ["docs"]',
            f"only_mutate = {json.dumps([module.source])}",
            f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
            # Fixed order and fixed examples: the same tests kill the same mutants on every run.
            'pytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cacheprovider", "--hypothesis-seed=0"]',
        ]
    )
    (work / "pyproject.toml").write_text(settings, "utf-8")


def run_mutmut(work: Path, max_children: int | None, log: Path) -> None:
    command = [str(Path(sys.executable).parent / "mutmut"), "run"]
    if max_children:
        command += ["--max-children", str(max_children)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DATABASE_URL", None)  # SQLite in memory: fast, and no shared database between modules
    with log.open("w") as output:
        completed = subprocess.run(command, cwd=work, stdout=output, stderr=subprocess.STDOUT, env=env)
    if completed.returncode != 0:
        tail = log.read_text("utf-8", errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed in {work} (exit {completed.returncode}); the end of {log}:\n{tail}")


def read_statuses(work: Path, module: Module) -> dict[str, str]:
    meta = work / "mutants" / (module.source + ".meta")
    data = json.loads(meta.read_text("utf-8"))
    return {name: _STATUS.get(code, "suspicious") for name, code in data["exit_code_by_key"].items()}


def read_diffs(work: Path, mutants: list[str]) -> dict[str, str]:
    """The diff of each mutant, from mutmut itself (one process for all of them)."""
    if not mutants:
        return {}
    script = (
        "import json, sys\n"
        "from mutmut.mutation.diff_apply import get_diff_for_mutant\n"
        "names = json.load(sys.stdin)\n"
        "print(json.dumps({n: get_diff_for_mutant(n) for n in names}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=work,
        input=json.dumps(mutants),
        capture_output=True,
        text=True,
        check=True,
    )
    diffs: dict[str, str] = json.loads(completed.stdout)
    return diffs


def load_equivalents(name: str) -> list[dict[str, str]]:
    path = ROOT / "mutation" / "equivalent" / f"{name}.toml"
    if not path.exists():
        return []
    entries: list[dict[str, str]] = tomllib.loads(path.read_text("utf-8")).get("mutant", [])
    return entries


def match_equivalents(outcome: Outcome, entries: list[dict[str, str]]) -> None:
    by_change: dict[tuple[str, str], str] = {}
    for mutant, diff in outcome.diffs.items():
        by_change.setdefault((function_of(mutant), changed_lines(diff)), mutant)
    for entry in entries:
        key = (function_of(entry["name"]), changed_lines(entry["change"]))
        found = by_change.get(key)
        if found is None or outcome.statuses[found] in KILLED:
            outcome.stale.append(entry)
        else:
            outcome.equivalent[found] = entry["reason"]


def mutate(name: str, max_children: int | None, work_root: Path) -> Outcome:
    module = MODULES[name]
    work = work_root / name
    print(f"== {name}: {module.source}", flush=True)
    prepare(name, module, work, max_children)
    run_mutmut(work, max_children, work / "mutmut.log")
    outcome = Outcome(name, read_statuses(work, module))
    not_killed = [m for m, s in outcome.statuses.items() if s not in KILLED]
    outcome.diffs = read_diffs(work, not_killed)
    match_equivalents(outcome, load_equivalents(name))
    return outcome


def report(outcomes: list[Outcome], verbose: bool) -> str:
    lines = [
        f"{'module':<12} {'mutants':>7} {'killed':>6} {'equiv.':>6} {'survived':>8} {'score':>7}",
    ]
    for o in outcomes:
        lines.append(
            f"{o.module:<12} {o.total:>7} {o.killed:>6} {len(o.equivalent):>6} {len(o.survivors):>8}"
            f" {o.score:>7.1%}" + ("" if o.score >= GOAL else "  < goal")
        )
    for o in outcomes:
        if o.stale:
            lines.append(
                f"\n{o.module}: {len(o.stale)} stale entries in mutation/equivalent/{o.module}.toml:"
            )
            lines += [f"  {entry['name']}: {entry['change']!r}" for entry in o.stale]
        if verbose and o.survivors:
            counts = Counter(o.statuses[m] for m in o.survivors)
            lines.append(f"\n{o.module}: surviving mutants ({dict(counts)}):")
            for mutant in o.survivors:
                lines.append(f"--- {mutant} [{o.statuses[mutant]}]")
                lines.append(changed_lines(o.diffs.get(mutant, "")))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", choices=[*MODULES, []], help="default: all")
    parser.add_argument("--max-children", type=int, default=None, help="mutants run at once (default: cores)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "mutation", help="work folder")
    parser.add_argument("--quiet", action="store_true", help="scores only, no list of surviving mutants")
    args = parser.parse_args(argv)
    outcomes = [mutate(name, args.max_children, args.work) for name in (args.modules or list(MODULES))]
    text = report(outcomes, verbose=not args.quiet)
    print(text)
    summary = {
        o.module: {
            "mutants": o.total,
            "killed": o.killed,
            "equivalent": len(o.equivalent),
            "survived": len(o.survivors),
            "score": round(o.score, 4),
        }
        for o in outcomes
    }
    (args.work / "scores.json").write_text(json.dumps(summary, indent=2), "utf-8")
    return 0 if all(o.score >= GOAL and not o.stale for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
