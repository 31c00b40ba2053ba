"""Benchmark of `songnuan check`: end to end against the raw calamine read and a hand-written openpyxl reader.

Command (from the repository root; the figures are in BENCHMARKS.md):

    .venv/bin/python bench/bench_check.py --n 1000 --out bench/out --repeat 3

It writes N filled tables (the two built-in forms alternating, values varied from the filled examples
in src/songnuan/formkit/examples/) with the official template writer, then times on the same files, in one
process, best of --repeat:

  (a) `check_paths(files)`: read + recognise the table + match rows + check every rule (`songnuan check`);
  (a0) the same with the upload guard (formkit/upload_guard.py) switched off: a/b against a0/b is the guard's
       cost (issue 8: at most 5 %);
  (b) the raw calamine read of every sheet of every file, the floor any calamine-based reader stands on;
  (c) an openpyxl read-only reader as one would write it by hand (合计 column, label → value, no rules).

Goals from the issue, at N = 1,000: (a) ≤ 1.5 × (b), and (c) ≥ 5 × (a). Then the rule engine alone:
`compiled(form).validate(values)` on M typed value dicts on one core; goal ≥ 20,000 validations per second.

Options: --n N, --m M (engine), --repeat R, --out DIR (keep the files there; default a temporary directory),
--seed S, --json (machine-readable results on stdout), --profile (cProfile of one (a) run, to stderr),
--form-file FILE.toml (repeatable: benchmark these definitions instead of the built-in forms),
--compare-guard OLD.py (only (a) with that upload_guard.py against (a) with the current one, (a0) and (b),
taking turns in one process: two versions of the guard compared on the same files).
Generation time is not measured. The exit status is always 0: this measures, it does not test.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import pstats
import random
import shutil
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import python_calamine

from songnuan.formkit import excel_reader, upload_guard
from songnuan.formkit.checking import Status, check_paths
from songnuan.formkit.definitions import Form, ItemKind, builtin_forms, load_form
from songnuan.formkit.engine import Value, compiled
from songnuan.formkit.excel_writer import write_form

CENT = Decimal("0.01")
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "songnuan" / "formkit" / "examples"

GOAL_CHECK_OVER_CALAMINE = 1.5  # (a) / (b) at most
GOAL_OPENPYXL_OVER_CHECK = 5.0  # (c) / (a) at least
GOAL_VALIDATIONS_PER_SECOND = 20_000
GOAL_GUARD_MOVES_RATIO = 0.05  # issue 8: the upload guard may move a/b by at most 5 %

#: Who reports: the county-level federations of 荆门 and some enterprise and industry unions.
UNITS = (
    "东宝区总工会",
    "掇刀区总工会",
    "钟祥市总工会",
    "京山市总工会",
    "沙洋县总工会",
    "屈家岭管理区总工会",
    "漳河新区总工会",
    "荆门高新区·掇刀区总工会",
    "市直机关工会工作委员会",
    "荆门市教育工会",
    "荆门市卫生健康工会",
    "荆门市交通运输工会",
    "中国石化荆门分公司工会",
    "国网荆门供电公司工会",
    "湖北中烟荆门卷烟厂工会",
    "荆门市第一人民医院工会",
    "葛洲坝水泥厂工会",
    "荆门宏图特种飞行器制造有限公司工会",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞"


# --- generating the tables -------------------------------------------------------------------------------


def typed_value(form: Form, code: str, raw: object) -> Value:
    """A value from a filled-example TOML as the engine types it (money is written there as a string)."""
    if raw is None or raw == "":
        return None
    kind = form.item(code).kind
    if kind is ItemKind.MONEY:
        return Decimal(str(raw))
    if kind is ItemKind.COUNT:
        return int(str(raw))
    return str(raw)


def example_values(form: Form) -> dict[str, Value] | None:
    path = EXAMPLES / f"filled-{form.code}.toml"
    if not path.is_file():
        return None
    raw = tomllib.loads(path.read_text(encoding="utf-8")).get("values", {})
    return {item.code: typed_value(form, item.code, raw.get(item.code)) for item in form.items}


def random_values(form: Form, rng: random.Random) -> dict[str, Value]:
    """Without a filled example: random values, then repaired until (almost) every rule holds: a total
    becomes the sum of its parts, the smaller side of an inequality between two items is lowered."""
    values: dict[str, Value] = {}
    for item in form.items:
        if item.kind is ItemKind.COUNT:
            values[item.code] = rng.randint(1, 400)
        elif item.kind is ItemKind.MONEY:
            values[item.code] = Decimal(rng.randint(100, 500_000)).scaleb(-2)
        else:
            values[item.code] = "是"
    compiled_form = compiled(form)

    def typed(code: str, number: int | Decimal) -> Value:
        return int(number) if form.item(code).kind is ItemKind.COUNT else Decimal(number).quantize(CENT)

    for _pass in range(20):
        changed = False
        for rule in reversed(compiled_form.rules):
            vector = compiled_form.vector(values)
            if rule.evaluate(vector) is None:
                continue
            left, right = rule.check.left.items, rule.check.right.items
            if rule.total is not None and rule.total_side is not None:
                parts = [values.get(code) for code in rule.total_side.items]
                total = sum((p for p in parts if isinstance(p, int | Decimal)), Decimal(0))
                code = form.items[rule.total].code
                values[code] = typed(code, total)
            elif rule.operator in ("<=", "<") and len(left) == 1 and right:
                values[left[0]] = typed(left[0], rule.right.value(vector, True) // 2)
            elif rule.operator in (">=", ">") and len(right) == 1 and left:
                values[right[0]] = typed(right[0], rule.left.value(vector, True) // 2)
            else:
                continue
            changed = True
        if not changed:
            break
    return values


def vary(form: Form, base: Mapping[str, Value], rng: random.Random) -> dict[str, Value]:
    """Another unit's table: every number scaled by one whole factor (sums and inequalities still hold);
    about one table in ten gets a typing slip (a changed number, or a cell left blank) and breaks a rule."""
    factor = rng.choice((1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40))
    values: dict[str, Value] = {
        code: value * factor if isinstance(value, int | Decimal) else value for code, value in base.items()
    }
    slip = rng.random()
    if slip < 0.10:
        numeric = [item.code for item in form.items if item.kind is not ItemKind.YES_NO]
        code = rng.choice(numeric)
        if slip < 0.03:
            values[code] = None
        else:
            value = values.get(code)
            bump = rng.randint(1, 9)
            if form.item(code).kind is ItemKind.MONEY:
                values[code] = (value if isinstance(value, Decimal) else Decimal(0)) + Decimal(bump)
            else:
                values[code] = (value if isinstance(value, int) else 0) + bump
    return values


def header_for(rng: random.Random) -> dict[str, str | None]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    if rng.random() < 0.5:
        phone = f"0724-{rng.randint(2_200_000, 8_899_999)}"
    else:
        phone = f"1{rng.choice((33, 37, 39, 58, 80, 86, 89))}{rng.randint(0, 99_999_999):08d}"
    day = rng.choice([f"2018-01-{d:02d}" for d in range(20, 32)] + [f"2018-02-{d:02d}" for d in range(1, 10)])
    return {"unit": rng.choice(UNITS), "reporter": name, "phone": phone, "date": day}


def generate(
    forms: Sequence[Form], bases: Mapping[str, Mapping[str, Value]], n: int, folder: Path, rng: random.Random
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for index in range(n):
        form = forms[index % len(forms)]
        path = folder / f"table-{index:05d}-{form.code}.xlsx"
        write_form(form, path, values=vary(form, bases[form.code], rng), header=header_for(rng))
        files.append(path)
    return files


# --- the three readers -----------------------------------------------------------------------------------


def run_check(files: Sequence[Path], forms: Mapping[str, Form]) -> dict[str, int]:
    """(a) `songnuan check` end to end: the count of tables by status."""
    counts = dict.fromkeys((s.value for s in Status), 0)
    for report in check_paths(files, forms=forms):
        counts[report.status.value] += 1
    return counts


def run_check_unguarded(files: Sequence[Path], forms: Mapping[str, Form]) -> dict[str, int]:
    """(a0) The same as (a) with the upload guard switched off: the baseline the guard's cost is read from."""
    upload_guard.ENABLED = False
    try:
        return run_check(files, forms)
    finally:
        upload_guard.ENABLED = True


def run_calamine(files: Sequence[Path]) -> int:
    """(b) The floor: open each file with calamine and turn every sheet into Python rows; the row count."""
    rows = 0
    for path in files:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            for name in workbook.sheet_names:
                rows += len(workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
        finally:
            workbook.close()
    return rows


def read_openpyxl(path: Path) -> dict[str, Any]:
    """(c) What one writes by hand: read-only openpyxl, find the 合计 column, then label → value below it."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        values: dict[str, Any] = {}
        value_column: int | None = None
        sheet = workbook.active
        assert sheet is not None
        for row in sheet.iter_rows(values_only=True):
            if value_column is None:
                if "合计" in row:
                    value_column = row.index("合计")
                continue
            label = max((v for v in row[:value_column] if isinstance(v, str)), key=len, default=None)
            if label:
                values[label] = row[value_column] if value_column < len(row) else None
        return values
    finally:
        workbook.close()


def run_openpyxl(files: Sequence[Path]) -> int:
    return sum(len(read_openpyxl(path)) for path in files)


# --- timing ----------------------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    runs: list[float]
    outcome: Any = None

    @property
    def best(self) -> float:
        return min(self.runs)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """One run, after a full collection; the collector stays enabled (as in a real run) for every reader."""
    gc.collect()
    start = time.perf_counter()
    outcome = function()
    return time.perf_counter() - start, outcome


def measure_readers(files: Sequence[Path], forms: Mapping[str, Form], repeat: int) -> dict[str, Timing]:
    readers: dict[str, Callable[[], Any]] = {
        "check": lambda: run_check(files, forms),
        "check_unguarded": lambda: run_check_unguarded(files, forms),
        "calamine": lambda: run_calamine(files),
        "openpyxl": lambda: run_openpyxl(files),
    }
    warm = files[: min(len(files), 20)]  # imports, form compilation, page cache: not part of the figures
    run_check(warm, forms)
    run_check_unguarded(warm, forms)
    run_calamine(warm)
    run_openpyxl(warm)
    timings = {name: Timing(name, []) for name in readers}
    for _round in range(repeat):  # interleaved, so any drift of the machine touches all of them alike
        for name, reader in readers.items():
            seconds, outcome = timed(reader)
            timings[name].runs.append(seconds)
            timings[name].outcome = outcome
    return timings


def compare_guards(
    files: Sequence[Path], forms: Mapping[str, Form], other: Path, repeat: int
) -> dict[str, float]:
    """Seconds, best of `repeat`: (a) with the guard in `other` (say the first committed upload_guard.py, from
    `git show ef842db:src/songnuan/formkit/upload_guard.py`), (a) with this one, (a0) and (b), taking turns in
    one process on the same files: two guards compared without the drift between two benchmark runs."""
    spec = importlib.util.spec_from_file_location("songnuan_bench_other_guard", other)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {other}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    # excel_reader calls the guard by the name it imported: swap that name in its namespace.
    namespace = vars(excel_reader)
    current = namespace["guard_workbook"]

    def check_with_other() -> dict[str, int]:
        namespace["guard_workbook"] = module.guard_workbook
        try:
            return run_check(files, forms)
        finally:
            namespace["guard_workbook"] = current

    runs: dict[str, Callable[[], Any]] = {
        "other": check_with_other,
        "check": lambda: run_check(files, forms),
        "check_unguarded": lambda: run_check_unguarded(files, forms),
        "calamine": lambda: run_calamine(files),
    }
    best = dict.fromkeys(runs, float("inf"))
    for _round in range(repeat + 1):  # the first round warms up and is not counted
        for name, reader in runs.items():
            seconds, _outcome = timed(reader)
            if _round:
                best[name] = min(best[name], seconds)
    return best


def print_guard_comparison(best: Mapping[str, float], other: Path, n: int) -> None:
    a0, b = best["check_unguarded"], best["calamine"]
    print(f"guards compared in one process, N = {n}, best of the rounds; a0/b = {a0 / b:.2f}")
    for name, label in (("other", f"(a) with {shown_path(str(other))}"), ("check", "(a) with this guard")):
        cost = 1e6 * (best[name] - a0) / n
        moved = best[name] / a0 - 1
        print(
            f"  {label:60s} a/b = {best[name] / b:5.2f}; guard {cost:6.0f} µs/file; moves a/b by {moved:+.1%}"
        )


def validate_all(validate: Callable[[Mapping[str, Value]], object], submissions: Sequence[Any]) -> None:
    for values in submissions:
        validate(values)


def measure_engine(
    forms: Sequence[Form], bases: Mapping[str, Mapping[str, Value]], m: int, repeat: int, rng: random.Random
) -> dict[str, dict[str, Any]]:
    """The rule engine alone, one core: validate M typed value dicts (split evenly between the forms)."""
    results: dict[str, dict[str, Any]] = {}
    for position, form in enumerate(forms):
        count = m // len(forms) + (1 if position < m % len(forms) else 0)
        submissions = [vary(form, bases[form.code], rng) for _ in range(count)]
        validate = compiled(form).validate
        valid = sum(1 for values in submissions[:2000] if validate(values).valid)

        seconds = min(timed(functools.partial(validate_all, validate, submissions))[0] for _ in range(repeat))
        results[form.code] = {
            "validations": count,
            "seconds": seconds,
            "per_second": count / seconds if seconds else float("inf"),
            "rules": len(compiled(form).rules),
            "items": len(form.items),
            "valid_share": valid / min(count, 2000) if count else 0.0,
        }
    return results


# --- the machine and the report --------------------------------------------------------------------------


def cpu_model() -> str:
    """The model name from /proc/cpuinfo, with family, model and clock (virtual machines often say little)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _sep, value = line.partition(":")
            if not key.strip():
                break  # the first processor is enough
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine() or "unknown"
    details = []
    if "cpu family" in fields and "model" in fields:
        details.append(f"family {fields['cpu family']} model {fields['model']}")
    if "cpu MHz" in fields:
        details.append(f"{float(fields['cpu MHz']):.0f} MHz")
    return f"{name} ({', '.join(details)})" if details else name


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def machine() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "python_calamine": version_of("python-calamine"),
        "openpyxl": version_of("openpyxl"),
        "xlsxwriter": version_of("XlsxWriter"),
    }


def shown_path(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_report(results: Mapping[str, Any]) -> None:
    m = results["machine"]
    n = results["n"]
    print(
        f"songnuan check benchmark: N = {n} files ({results['files_by_form']}), best of {results['repeat']}"
    )
    print(f"{m['python']} on {m['cpu']}, {m['cpus_usable']} of {m['cpus']} CPUs usable ({m['platform']})")
    print(
        f"python-calamine {m['python_calamine']}, openpyxl {m['openpyxl']}; base values: {results['bases']}"
    )
    print(f"files: {results['folder']} ({results['megabytes']:.1f} MB)")
    print()
    print(f"{'':38}{'best s':>9}{'ms/file':>10}   all runs (s)")
    labels = {
        "check": "(a) songnuan check, end to end",
        "check_unguarded": "(a0) the same, upload guard off",
        "calamine": "(b) raw calamine read (the floor)",
        "openpyxl": "(c) openpyxl read-only reader",
    }
    for key, label in labels.items():
        t = results["readers"][key]
        runs = " ".join(f"{s:.3f}" for s in t["runs"])
        print(f"{label:38}{t['best']:9.3f}{t['ms_per_file']:10.3f}   {runs}")
    check = results["readers"]["check"]["outcome"]
    print(f"{'':38}check: {check['ok']} ok, {check['invalid']} invalid, {check['unreadable']} unreadable")
    ratios = results["ratios"]
    print()
    a_b, c_a = ratios["check_over_calamine"], ratios["openpyxl_over_check"]
    goal_ab = f"goal ≤ {GOAL_CHECK_OVER_CALAMINE}"
    goal_ca = f"goal ≥ {GOAL_OPENPYXL_OVER_CHECK:g}"
    print(f"a/b = {a_b:6.2f}   ({goal_ab:8})  {verdict(ratios['check_over_calamine_met'])}")
    print(f"c/a = {c_a:6.2f}   ({goal_ca:8})  {verdict(ratios['openpyxl_over_check_met'])}")
    moved, goal_guard = ratios["guard_moves_ratio"], f"goal ≤ {GOAL_GUARD_MOVES_RATIO:.0%}"
    print(
        f"a0/b = {ratios['unguarded_over_calamine']:5.2f}; the guard moves a/b by {moved:+.1%}"
        f"   ({goal_guard})  {verdict(ratios['guard_moves_ratio_met'])}"
    )
    print()
    engine = results["engine"]
    print(f"rule engine alone, one core, M = {engine['m']} submissions, best of {results['repeat']}:")
    for code, e in engine["forms"].items():
        detail = f"{e['validations']:>7} × {e['items']:>3} items, {e['rules']:>3} rules"
        print(
            f"  {code:24}{detail:34}{e['seconds']:8.3f} s{e['per_second']:>10,.0f} /s"
            f"   ({e['valid_share']:.0%} valid)"
        )
    goal = f"(goal ≥ {GOAL_VALIDATIONS_PER_SECOND:,})"
    print(
        f"  {'overall':24}{engine['m']:>7}{'':27}{engine['seconds']:8.3f} s{engine['per_second']:>10,.0f} /s"
        f"   {goal}  {verdict(engine['met'])}"
    )


def profile_check(files: Sequence[Path], forms: Mapping[str, Form], top: int = 30) -> None:
    """cProfile of one (a) run, printed to stderr: the functions by own time and by cumulative time."""
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    check_paths(files, forms=forms)
    profiler.disable()
    profile_report(profiler, f"one check_paths run over {len(files)} files", top)


def profile_report(profiler: cProfile.Profile, title: str, top: int = 30) -> None:
    """The functions by own time and by cumulative time, on stderr."""
    stats = pstats.Stats(profiler)
    entries: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = max((entry[3] for entry in entries.values()), default=0.0) or 1.0

    def where(key: tuple[str, int, str]) -> str:
        file, line, name = key
        if file == "~":
            return name
        parts = Path(file).parts
        short = "/".join(parts[parts.index("songnuan") :]) if "songnuan" in parts else "/".join(parts[-2:])
        return f"{short}:{line} {name}"

    out = sys.stderr
    print(f"\nprofile of {title}: {total:.3f} s (profiled)", file=out)
    for heading, column in (("own time", 2), ("cumulative time", 3)):
        print(f"\n  by {heading}:", file=out)
        print(f"  {'%':>6} {'seconds':>8} {'calls':>9}  function", file=out)
        for key, entry in sorted(entries.items(), key=lambda kv: kv[1][column], reverse=True)[:top]:
            print(
                f"  {100 * entry[column] / total:6.1f} {entry[column]:8.3f} {entry[1]:9d}  {where(key)}",
                file=out,
            )


def load_forms(form_files: Sequence[str]) -> dict[str, Form]:
    if form_files:
        loaded = [load_form(path) for path in form_files]
        return {form.code: form for form in loaded}
    return builtin_forms()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--n", type=int, default=1000, help="filled tables to generate and read (default 1000)"
    )
    parser.add_argument(
        "--m", type=int, default=20_000, help="submissions for the rule engine (default 20000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best counts")
    parser.add_argument("--out", type=Path, help="folder for the generated files (kept); default: a temp dir")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--profile", action="store_true", help="also profile one (a) run (to stderr)")
    parser.add_argument("--form-file", action="append", default=[], help="a form definition instead")
    parser.add_argument(
        "--compare-guard",
        type=Path,
        help="only compare (a) with this upload_guard.py against (a) with the current one, (a0) and (b)",
    )
    args = parser.parse_args(argv)
    n, repeat = max(args.n, 1), max(args.repeat, 1)

    forms = load_forms(args.form_file)
    if not forms:
        print("no forms to benchmark: src/songnuan/formkit/data/ holds no definitions", file=sys.stderr)
        return 0
    ordered = list(forms.values())
    rng = random.Random(args.seed)
    bases: dict[str, dict[str, Value]] = {}
    origin: list[str] = []
    for form in ordered:
        example = example_values(form)
        bases[form.code] = example if example is not None else random_values(form, rng)
        origin.append(f"{form.code} from {'the filled examples' if example is not None else 'random values'}")

    folder = args.out if args.out is not None else Path(tempfile.mkdtemp(prefix="songnuan-bench-"))
    try:
        files = generate(ordered, bases, n, folder, rng)
        if args.compare_guard is not None:
            print_guard_comparison(
                compare_guards(files, forms, args.compare_guard, repeat), args.compare_guard, n
            )
            return 0
        megabytes = sum(path.stat().st_size for path in files) / 1048576
        readers = measure_readers(files, forms, repeat)
        engine = measure_engine(ordered, bases, max(args.m, len(ordered)), repeat, rng)
        if args.profile:
            profile_check(files, forms)
    finally:
        if args.out is None:
            shutil.rmtree(folder, ignore_errors=True)

    best = {name: timing.best for name, timing in readers.items()}
    a_b = best["check"] / best["calamine"]
    a0_b = best["check_unguarded"] / best["calamine"]
    moved = a_b / a0_b - 1
    c_a = best["openpyxl"] / best["check"]
    engine_count = sum(e["validations"] for e in engine.values())
    engine_seconds = sum(e["seconds"] for e in engine.values())
    engine_rate = engine_count / engine_seconds if engine_seconds else float("inf")
    by_form: dict[str, int] = {}
    for index in range(n):
        by_form[ordered[index % len(ordered)].code] = by_form.get(ordered[index % len(ordered)].code, 0) + 1
    results: dict[str, Any] = {
        "command": " ".join([shown_path(sys.executable), *sys.argv]),
        "machine": machine(),
        "n": n,
        "repeat": repeat,
        "seed": args.seed,
        "files_by_form": ", ".join(f"{count} {code}" for code, count in by_form.items()),
        "bases": "; ".join(origin),
        "folder": str(folder) + ("" if args.out is not None else " (removed)"),
        "megabytes": megabytes,
        "readers": {
            name: {
                "best": timing.best,
                "runs": timing.runs,
                "ms_per_file": 1000 * timing.best / n,
                "outcome": timing.outcome,
            }
            for name, timing in readers.items()
        },
        "ratios": {
            "check_over_calamine": a_b,
            "check_over_calamine_goal": GOAL_CHECK_OVER_CALAMINE,
            "check_over_calamine_met": a_b <= GOAL_CHECK_OVER_CALAMINE,
            "openpyxl_over_check": c_a,
            "openpyxl_over_check_goal": GOAL_OPENPYXL_OVER_CHECK,
            "openpyxl_over_check_met": c_a >= GOAL_OPENPYXL_OVER_CHECK,
            "unguarded_over_calamine": a0_b,
            "guard_moves_ratio": moved,
            "guard_moves_ratio_goal": GOAL_GUARD_MOVES_RATIO,
            "guard_moves_ratio_met": moved <= GOAL_GUARD_MOVES_RATIO,
        },
        "engine": {
            "m": engine_count,
            "seconds": engine_seconds,
            "per_second": engine_rate,
            "goal": GOAL_VALIDATIONS_PER_SECOND,
            "met": engine_rate >= GOAL_VALIDATIONS_PER_SECOND,
            "forms": engine,
        },
    }
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
