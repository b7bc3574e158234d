"""The shared benchmark harness: variants run interleaved, several times, reported alike.

Every benchmark in this folder uses it, so their numbers are measured the same way::

    add_arguments(parser, runs=5)                  # --runs N, --warmup N
    bench = Bench("many files", runs=args.runs, warmup=args.warmup)
    bench.add("voxcli -j 8", lambda: time_command([...], env))
    bench.add("voxcli -j 1, one file", lambda: time_command([...], env))
    results = bench.run()                          # A B A B ...: round-robin
    print(results.table(baseline="voxcli -j 1, one file"))

Variants run **round-robin** (A B C A B C ...), so a slow minute of the machine (another
process, a thermal step, a noisy neighbour) spreads over every variant instead of
landing on one; each variant's wall times give min / median / max and ratios are taken
on the medians. One warm-up round, not counted, comes first (disk cache, ``.pyc`` files).

A variant returns a :class:`Sample`: its wall time plus any named extra figures (bytes
sent, peak RSS...), reported as medians. :func:`run_command` runs a subprocess and
measures its wall time and peak RSS from a small spawner process (see :data:`SPAWNER`);
:func:`python_env` gives it an environment without ``PYTHONDONTWRITEBYTECODE`` after
:func:`compile_sources` has byte-compiled the package, so start-up numbers are not
inflated by compiling voxcli on every run (~35 ms). :func:`install_wheel` installs the
working tree as users get it, for start-up figures.

Machine, Python and date go above every table (:func:`machine`): ratios depend on the
client's CPU and network link, and a figure without them cannot be compared.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (benchmarks run from anywhere)."""


@dataclass(frozen=True)
class Sample:
    """One run of one variant: wall time in seconds and any other figures it measured."""

    wall: float
    extra: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Stats:
    """min / median / max of one figure over a variant's runs."""

    low: float
    median: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(min(values), statistics.median(values), max(values))


@dataclass
class Variant:
    name: str
    run: Callable[[], Sample | float]
    samples: list[Sample] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [sample.wall for sample in self.samples]

    def wall(self) -> Stats:
        return Stats.of(self.walls)

    def extra(self, key: str) -> Stats:
        return Stats.of([sample.extra[key] for sample in self.samples if key in sample.extra])


@dataclass
class Results:
    variants: list[Variant]
    runs: int

    def __getitem__(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)

    def ratio(self, name: str, baseline: str) -> float:
        """``name``'s median wall time over ``baseline``'s."""
        return self[name].wall().median / self[baseline].wall().median

    def table(
        self,
        *,
        baseline: str | None = None,
        ratio_label: str = "ratio (medians)",
        extras: Sequence[tuple[str, str, Callable[[float], str]]] = (),
        unit: str = "s",
    ) -> str:
        """A Markdown table: one row per variant, min / median / max wall time, the ratio
        of its median to ``baseline``'s, then the medians of ``extras`` given as
        ``(key, column title, format)``."""
        scale, digits = (1000.0, 0) if unit == "ms" else (1.0, 2)
        head = ["variant", "runs", f"min ({unit})", f"median ({unit})", f"max ({unit})"]
        if baseline is not None:
            head.append(ratio_label)
        head += [title for _, title, _ in extras]
        lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
        for variant in self.variants:
            wall = variant.wall()
            cells = [
                variant.name,
                str(len(variant.samples)),
                *(f"{value * scale:.{digits}f}" for value in (wall.low, wall.median, wall.high)),
            ]
            if baseline is not None:
                cells.append(f"{self.ratio(variant.name, baseline):.2f}x")
            for key, _, fmt in extras:
                present = [s.extra[key] for s in variant.samples if key in s.extra]
                cells.append(fmt(statistics.median(present)) if present else "")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


class Bench:
    """Variants to run round-robin ``runs`` times each, after ``warmup`` uncounted rounds."""

    def __init__(self, title: str, *, runs: int, warmup: int = 1) -> None:
        self.title = title
        self.runs = runs
        self.warmup = warmup
        self.variants: list[Variant] = []

    def add(self, name: str, run: Callable[[], Sample | float]) -> None:
        self.variants.append(Variant(name, run))

    def run(self, *, quiet: bool = False) -> Results:
        """Run every variant round-robin; progress (one line per round) goes to stderr."""
        total = self.warmup + self.runs
        for round_ in range(total):
            counted = round_ >= self.warmup
            label = f"run {round_ - self.warmup + 1}/{self.runs}" if counted else "warm-up"
            for variant in self.variants:
                outcome = variant.run()
                sample = outcome if isinstance(outcome, Sample) else Sample(float(outcome))
                if counted:
                    variant.samples.append(sample)
                if not quiet:
                    print(
                        f"  {self.title}: {label}: {variant.name}: {sample.wall:.3f} s",
                        file=sys.stderr,
                        flush=True,
                    )
        return Results(self.variants, self.runs)


def add_arguments(parser: argparse.ArgumentParser, *, runs: int, warmup: int = 1) -> None:
    """The options every benchmark takes: ``--runs N`` and ``--warmup N``."""
    parser.add_argument(
        "--runs", type=int, default=runs, help=f"counted runs of each variant (default {runs})"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=warmup,
        help=f"uncounted rounds of every variant first (default {warmup})",
    )


def recorded_long_ago(directory: Path) -> None:
    """Date the files in ``directory`` an hour back: runs over folders (``-r``) leave files
    modified seconds ago for a later run (``--min-age``, 10 s by default)."""
    an_hour_ago = time.time() - 3600
    for path in directory.iterdir():
        os.utime(path, (an_hour_ago, an_hour_ago))


# -- subprocesses --------------------------------------------------------------------------


def compile_sources() -> None:
    """Byte-compile ``voxcli`` so measured processes load ``.pyc`` files, as an installed
    wheel does, even when ``PYTHONDONTWRITEBYTECODE`` is set here."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "voxcli")],
        env=python_env(),
        check=True,
    )


def python_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a measured Python subprocess: without
    ``PYTHONDONTWRITEBYTECODE`` (any module not compiled yet is cached on the first,
    warm-up, run) and without settings that would change what voxcli does."""
    env = dict(os.environ)
    drop = (
        "PYTHONDONTWRITEBYTECODE",
        "VOXCLI_CONFIG",
        "VOXCLI_MIN_AGE",
        "MISTRAL_DEBUG",
        "NO_COLOR",
    )
    for name in drop:
        env.pop(name, None)
    env.update(extra or {})
    return env


def voxcli_command() -> list[str]:
    """How a wheel install runs voxcli: the console script ``voxcli`` that pyproject's
    ``[project.scripts]`` makes (``voxcli.cli:main``), next to this interpreter; else
    ``python -m voxcli``, which runs the same ``main``."""
    script = Path(sys.executable).with_name("voxcli")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "voxcli"]


def install_wheel(dest: Path) -> Path:
    """Build a wheel of the working tree and install it into a fresh venv in ``dest``;
    the venv's ``bin`` directory (its ``python`` and the ``voxcli`` console script).

    A wheel install, not this editable one: the dev venv's ``.pth`` hooks (setuptools'
    editable finder imports ``pathlib`` and ``importlib.util`` at every interpreter
    start, 10 to 35 ms here) slow every process down, the baseline's included, which
    makes start-up ratios look better than users see. The dependencies are this venv's,
    reached through a ``.pth`` path line (whose own ``.pth`` files are not run). Building
    needs setuptools >= 68 in pip's build isolation (downloaded once, then cached).
    """
    src = dest / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "voxcli", src / "voxcli", ignore=shutil.ignore_patterns("__pycache__"))
    env = python_env()
    pip = [sys.executable, "-m", "pip"]
    quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(dest / "dist"), str(src)], **quiet)
    wheel = next((dest / "dist").glob("voxcli-*.whl"))
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(dest / "venv")], **quiet)
    python = dest / "venv" / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(purelib, "voxcli-bench-deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        **quiet,
    )
    return python.parent


@dataclass(frozen=True)
class Finished:
    """A finished subprocess: wall time (s), its own peak RSS (MB), when it started and
    ended (``time.monotonic()``, the clock of the fake server's request log) and its
    standard output and error."""

    wall: float
    rss_mb: float
    started: float
    ended: float
    stdout: bytes
    stderr: bytes = b""


SPAWNER = """
import json, os, sys, time
result, *argv = sys.argv[1:]
started, t0 = time.monotonic(), time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall, ended = time.perf_counter() - t0, time.monotonic()
with open(result, "w") as out:
    json.dump({"wall": wall, "rss_kb": usage.ru_maxrss, "started": started, "ended": ended,
               "code": os.waitstatus_to_exitcode(status)}, out)
"""
"""Runs the measured command and times it from a small, fresh interpreter: Linux keeps
the parent's memory high-water mark across ``fork`` + ``exec``, so a child of this
process (numpy, the audio, the fake server: 100 MB or more) would report at least that
as its own peak RSS. ``python -I -S`` is about 10 MB, below any measured process."""


def run_command(
    argv: Sequence[str], env: Mapping[str, str], *, cwd: Path | None = None
) -> Finished:
    """Run ``argv`` to completion and measure it; a failure stops the benchmark.

    Wall time and peak RSS (``os.wait4``) are taken by :data:`SPAWNER` right around the
    command, so they leave out the spawner's own start. Output goes to unnamed temporary
    files (no pipe to drain while it runs).
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".json") as result,
    ):
        spawner = [sys.executable, "-I", "-S", "-c", SPAWNER, result.name, *argv]
        code = subprocess.run(spawner, env=dict(env), cwd=cwd, stdout=out, stderr=err).returncode
        measured = json.loads(result.read() or "{}")
        if code != 0 or measured.get("code") != 0:
            err.seek(0)
            shown = " ".join(argv[:6])
            message = err.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"{shown} ... failed ({measured.get('code', code)}):\n{message}")
        out.seek(0)
        err.seek(0)
        return Finished(
            measured["wall"],
            measured["rss_kb"] / 1024,
            measured["started"],
            measured["ended"],
            out.read(),
            err.read(),
        )


def time_command(argv: Sequence[str], env: Mapping[str, str], *, cwd: Path | None = None) -> float:
    """The wall time of ``argv`` run to completion (it must succeed)."""
    return run_command(argv, env, cwd=cwd).wall


# -- reporting -----------------------------------------------------------------------------


def machine() -> str:
    """CPU model, cores, RAM, Python and OS: the line above every table."""
    cpu = platform.processor() or "unknown CPU"
    ram = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB"
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram} RAM; Python {platform.python_version()} "
        f"({platform.python_implementation()}); {platform.system()} {platform.release()}"
    )


def header(title: str, runs: int, details: Sequence[str] = (), *, warmup: int = 1) -> str:
    """The text above a benchmark's table: what ran, how often, where and when."""
    now = datetime.datetime.now(datetime.timezone.utc)
    first = f"after {warmup} uncounted warm-up round(s)" if warmup else "no warm-up round"
    lines = [
        f"## {title}",
        "",
        f"- Machine: {machine()}",
        f"- Date: {now:%Y-%m-%d %H:%M} UTC; {runs} run(s) of each variant, interleaved "
        f"(round-robin), {first}; min / median / max wall time, ratios on medians.",
        *(f"- {detail}" for detail in details),
    ]
    return "\n".join(lines)


def fmt_mb(count: float) -> str:
    return f"{count / 1e6:,.1f} MB"
