"""Entry point for ``python -m voxcli``."""

from voxcli.cli import main

main()
