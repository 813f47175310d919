"""The ``minzheng`` command line. Each capability registers its commands in its own module."""

from __future__ import annotations

import minzheng_rules.cli._batch  # registers `minzheng batch` and `synth`
import minzheng_rules.cli._diff  # noqa: F401  (registers `minzheng diff`)
from minzheng_rules.cli import _docs as docs  # noqa: F401  (registers commands)
from minzheng_rules.cli._app import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
