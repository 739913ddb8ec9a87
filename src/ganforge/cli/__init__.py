"""The `ganforge` command line: `commands.py` parses, each modality's half (`tables.py`, `images.py`, `texts.py`)
works, `common.py` holds what they share."""

from .commands import cli, main

__all__ = ["cli", "main"]
