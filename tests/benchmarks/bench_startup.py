#!/usr/bin/env python
"""Benchmark: voxcli's start-up against ``python -c "import typer"``, in one run.

Run from anywhere (not collected by pytest; under a minute with the defaults)::

    .venv/bin/python tests/benchmarks/bench_startup.py [--runs 20] [--importtime]

Every Typer CLI pays for importing Typer (and with it Click and Rich), so that is the
floor voxcli is held against. Interleaved (see ``harness.py``), each as a fresh process:

- ``python -c pass`` (the interpreter alone, for reference)
- ``python -c "import typer"`` (the baseline)
- ``voxcli --version``, ``voxcli --help``, ``voxcli transcribe --help``

voxcli runs as users run it: the ``voxcli`` console script that ``[project.scripts]``
(``voxcli = "voxcli.cli:main"``) makes, from a wheel of the working tree installed into
a fresh venv (``harness.install_wheel``: the dev venv's editable-install hook costs every
interpreter 10 to 35 ms, which would flatter the ratios), with that venv's interpreter
for the baselines. ``--dev-venv`` measures this venv's script instead. Compiled
``.pyc`` files are used and the measured processes run without
``PYTHONDONTWRITEBYTECODE``, so no run compiles anything.
Targets (issue 10): ``--version`` <= 1.3x, ``--help`` and ``transcribe --help`` <= 2x
the baseline's median. ``--importtime`` adds the largest imports of ``voxcli --help``
(``python -X importtime``), to see where the rest goes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from harness import Bench  # noqa: E402

PASS = '`python -c "pass"`'
TYPER = '`python -c "import typer"`'
VERSION = "`voxcli --version`"
HELP = "`voxcli --help`"
TRANSCRIBE_HELP = "`voxcli transcribe --help`"
TARGETS = {VERSION: 1.3, HELP: 2.0, TRANSCRIBE_HELP: 2.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--importtime", action="store_true", help="also show the largest imports of --help"
    )
    parser.add_argument(
        "--dev-venv",
        action="store_true",
        help="measure this venv's (editable) voxcli script instead of a wheel install",
    )
    harness.add_arguments(parser, runs=20, warmup=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="voxcli-bench-"))
    if args.dev_venv:
        harness.compile_sources()
        python, voxcli = sys.executable, harness.voxcli_command()
        how = f"`{' '.join(voxcli)}`, this (editable) venv's script"
    else:
        print("building and installing a wheel of the working tree...", file=sys.stderr)
        bin_dir = harness.install_wheel(work / "wheel")
        python, voxcli = str(bin_dir / "python"), [str(bin_dir / "voxcli")]
        how = "the console script of a wheel of the working tree, installed in a fresh venv"
    (work / "config").mkdir()
    env = harness.python_env({"COLUMNS": "100", "XDG_CONFIG_HOME": str(work / "config")})
    for name in ("MISTRAL_API_KEY", "MISTRAL_SERVER_URL", "FORCE_COLOR"):
        env.pop(name, None)

    def checked(argv: list[str], expect: bytes) -> Callable[[], float]:
        def run() -> float:
            done = harness.run_command(argv, env)
            if expect not in done.stdout:
                raise SystemExit(f"{argv}: {expect!r} not in its output:\n{done.stdout[:500]!r}")
            return done.wall

        return run

    try:
        bench = Bench("start-up", runs=args.runs, warmup=args.warmup)
        bench.add(PASS, checked([python, "-c", "pass"], b""))
        bench.add(TYPER, checked([python, "-c", "import typer"], b""))
        bench.add(VERSION, checked([*voxcli, "--version"], b"voxcli"))
        bench.add(HELP, checked([*voxcli, "--help"], b"Usage"))
        bench.add(TRANSCRIBE_HELP, checked([*voxcli, "transcribe", "--help"], b"Usage"))
        results = bench.run()
        imports = importtime([*voxcli, "--help"], env) if args.importtime else []
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        harness.header(
            "Start-up: voxcli against `import typer`",
            args.runs,
            [f"voxcli runs as {how}; the baselines with the same interpreter."],
            warmup=args.warmup,
        )
    )
    print()
    print(results.table(baseline=TYPER, ratio_label="x import typer (medians)", unit="ms"))
    print()
    missed = 0
    for name, target in TARGETS.items():
        ratio = results.ratio(name, TYPER)
        ok = ratio <= target
        missed += not ok
        fastest = results[name].wall().low / results[TYPER].wall().low
        print(
            f"- {name}: **{ratio:.2f}x** `import typer` ({'meets' if ok else 'MISSES'} the "
            f"target <= {target}x); fastest run over fastest baseline run: {fastest:.2f}x"
        )
    if imports:
        print()
        print("Largest imports of `voxcli --help` (cumulative, one run, `-X importtime`):")
        print()
        print("| module | depth | cumulative (ms) | self (ms) |")
        print("| --- | ---: | ---: | ---: |")
        for name, depth, cumulative, own in imports:
            print(f"| `{name}` | {depth} | {cumulative / 1000:.1f} | {own / 1000:.1f} |")
    return 1 if missed else 0


def importtime(
    argv: list[str], env: dict[str, str], top: int = 15
) -> list[tuple[str, int, int, int]]:
    """The ``top`` imports of one run of ``argv`` by cumulative time: (module, nesting
    depth (0: imported by the program itself), cumulative us, self us)."""
    with tempfile.TemporaryFile() as err:
        subprocess.run(
            argv,
            env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
            stdout=subprocess.DEVNULL,
            stderr=err,
            check=True,
        )
        err.seek(0)
        lines = err.read().decode(errors="replace").splitlines()
    rows: list[tuple[str, int, int, int]] = []
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((name.strip(), depth, int(cumulative), int(own)))
    rows.sort(key=lambda row: row[2], reverse=True)
    return rows[:top]


if __name__ == "__main__":
    sys.exit(main())
