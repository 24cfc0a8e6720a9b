"""The ``wirecheck`` command line: a thin face over library calls."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("wirecheck: no commands yet")


if __name__ == "__main__":
    sys.exit(main())
