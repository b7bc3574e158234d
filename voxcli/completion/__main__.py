"""``python -m voxcli.completion generate [--check] [--dir DIR]``: (re)write completions/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voxcli.completion import scripts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voxcli.completion",
        description="Generate the shell completion scripts from voxcli's commands.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write completions/ (or check it)")
    generate.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a script is out of date"
    )
    generate.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where the scripts live (default: completions/ of this checkout)",
    )
    args = parser.parse_args(argv)
    directory = args.dir or scripts.default_directory()
    if args.dir is None and not (directory.parent / "pyproject.toml").is_file():
        print(
            "error: voxcli is not running from a source checkout; name the directory: --dir DIR",
            file=sys.stderr,
        )
        return 2
    if args.check:
        stale = scripts.stale(directory)
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        if stale:
            print(f"regenerate them with: {scripts.REGENERATE}", file=sys.stderr)
            return 1
        print(f"up to date: {directory}", file=sys.stderr)
        return 0
    changed = scripts.write(directory)
    for path in changed:
        print(f"wrote {path}", file=sys.stderr)
    if not changed:
        print(f"already up to date: {directory}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
