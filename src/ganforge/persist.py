"""The model folder: config.json (settings, schema, transform state, versions) + safetensors weights.

No pickle anywhere: a model folder someone hands you can be loaded without running their code.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GanforgeError
from .io import make_ordinary

if TYPE_CHECKING:  # torch is imported where weights are read or written, so `info` and `--help` start fast
    import torch

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "generator.safetensors"
REQUIRED_KEYS = ("format_version", "model_type")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("ganforge", "torch", "numpy", "pandas", "scikit-learn", "safetensors"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GanforgeError(f"{path}: not valid JSON ({error})") from None


def is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / CONFIG_FILE).is_file()


def check_model_destination(path: str | os.PathLike, force: bool) -> Path:
    """Fail before training, not after: never replace what is not ours, nor anything without --force."""
    path = Path(path)
    if path.exists():
        if not force:
            raise GanforgeError(f"{path}: already exists (use --force to overwrite)")
        if not is_model_folder(path) and (path.is_file() or any(path.iterdir())):
            raise GanforgeError(f"{path}: exists and is not a ganforge model folder; refusing to replace it")
    if not path.parent.exists():
        raise GanforgeError(f"{path.parent}: output folder does not exist")
    return path


def save_model_folder(path: str | os.PathLike, config: dict[str, Any], weights: dict[str, torch.Tensor],
                      force: bool = False) -> Path:
    """Write into a temporary sibling folder, then swap it in, so a crash never leaves half a model."""
    path = check_model_destination(path, force)
    document = {"format_version": FORMAT_VERSION, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "library_versions": library_versions(), **config}
    from safetensors.torch import save_file

    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    make_ordinary(staging, 0o777)
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in weights.items()}, staging / WEIGHTS_FILE)
        (staging / CONFIG_FILE).write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        if path.exists():
            retired = path.with_name(f".{path.name}.old")
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(path, retired)
            os.replace(staging, path)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def read_model_config(path: str | os.PathLike, model_type: str | None = None) -> dict[str, Any]:
    """A model folder's config.json, checked; every way it can be wrong names the file at fault."""
    path = Path(path)
    if not path.exists():
        raise GanforgeError(f"{path}: no such model folder")
    config_path = path / CONFIG_FILE
    if not path.is_dir() or not config_path.is_file():
        raise GanforgeError(f"{path}: not a ganforge model folder (no {CONFIG_FILE})")
    config = read_json(config_path)
    if not isinstance(config, dict):
        raise GanforgeError(f"{config_path}: expected a JSON object")
    missing = [key for key in REQUIRED_KEYS if key not in config]
    if missing:
        raise GanforgeError(f"{config_path}: missing key(s) {', '.join(missing)}")
    if not isinstance(config["model_type"], str):
        raise GanforgeError(f"{config_path}: no model_type")
    version = config["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise GanforgeError(f"{config_path}: model format version {version!r} is newer than this ganforge "
                            f"reads (up to {FORMAT_VERSION}); upgrade ganforge")
    if model_type is not None and config["model_type"] != model_type:
        raise GanforgeError(f"{config_path}: holds a {config['model_type']!r} model, not a {model_type!r} one")
    return config


def load_model_folder(path: str | os.PathLike,
                      model_type: str | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """config.json and the weights, both checked (and the model's kind, when `model_type` is given)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    config = read_model_config(path, model_type)
    weights_path = Path(path) / WEIGHTS_FILE
    if not weights_path.is_file():
        raise GanforgeError(f"{weights_path}: missing")
    try:
        weights = load_file(weights_path)
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise GanforgeError(f"{weights_path}: damaged or not a safetensors file ({error})") from None
    return config, weights


@contextmanager
def settings_of(source: str) -> Iterator[None]:
    """Settings in a model folder's config.json that do not build a model are named as the file's fault."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as error:
        raise GanforgeError(f"{source}: malformed model settings ({type(error).__name__}: {error})") from None


def load_weights(module: torch.nn.Module, weights: dict[str, torch.Tensor], folder: str | os.PathLike) -> None:
    """Weights that do not fit the network config.json describes: one line naming the first mismatch."""
    try:
        module.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        raise GanforgeError(f"{Path(folder) / WEIGHTS_FILE}: does not match {CONFIG_FILE} "
                            f"({first[1].strip() if len(first) > 1 else first[0]})") from None


def model_type(path: str | os.PathLike) -> str:
    """The kind of model a folder holds ("tabular", "image", "text"), checked as load_model_folder checks it."""
    return read_model_config(path)["model_type"]


def require_keys(config: dict[str, Any], keys: tuple[str, ...], source: str) -> None:
    missing = [key for key in keys if key not in config]
    if missing:
        raise GanforgeError(f"{source}: missing key(s) {', '.join(missing)}")


class Checkpoint:
    """A training state for `--resume`: torch.save of tensors and plain values (read back with
    weights_only=True, so loading runs no code) beside the settings it belongs to."""

    STATE_FILE, SETTINGS_FILE = "checkpoint.pt", "checkpoint.json"

    def __init__(self, folder: Path, settings: dict[str, Any]):
        self.folder, self.settings = Path(folder), json.loads(json.dumps(settings))

    def save(self, state: dict[str, Any]) -> None:
        import torch

        self.folder.mkdir(parents=True, exist_ok=True)
        for name, write in ((self.STATE_FILE, lambda path: torch.save(state, path)),
                            (self.SETTINGS_FILE, lambda path: Path(path).write_text(json.dumps(self.settings)))):
            temporary = self.folder / f".{name}.tmp"
            write(temporary)
            os.replace(temporary, self.folder / name)

    def load(self) -> dict[str, Any]:
        state_path, settings_path = self.folder / self.STATE_FILE, self.folder / self.SETTINGS_FILE
        if not state_path.is_file() or not settings_path.is_file():
            raise GanforgeError(f"{self.folder}: no checkpoint to resume from")
        saved_settings = read_json(settings_path)
        if saved_settings != self.settings:
            differing = sorted(k for k in set(saved_settings) | set(self.settings)
                               if saved_settings.get(k) != self.settings.get(k))
            raise GanforgeError(f"{self.folder}: the checkpoint was made with other data or settings "
                                f"({', '.join(differing)} differ); resume with the same command")
        import torch

        try:
            return torch.load(state_path, weights_only=True)
        except Exception as error:  # any failure to read the file is the file's fault
            raise GanforgeError(f"{state_path}: damaged checkpoint ({type(error).__name__})") from None

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
