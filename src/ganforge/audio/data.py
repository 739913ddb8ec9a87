"""Sound clips in and out: a folder of WAV files (labels from sub-folders, from a `label_` file-name prefix, or
none) or an .npz; one sample rate for all (the most common one, others resampled to it); clips padded or
cropped to one length that `clip_length` chooses from the data. Networks see float32 in [-1, 1]."""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from ..errors import GanforgeError

WAV_SUFFIX = ".wav"
NOTES_SUFFIXES = (".md", ".txt")  # a README or license notice beside the clips is not a clip, nor an error
LENGTH_QUANTILE = 0.9  # the chosen length fits this share of the clips whole
LENGTH_STEP = 1024  # lengths are multiples of this many samples (the networks halve or quarter them)
PREFIX = re.compile(r"^([^_]+)_.+")


@dataclass
class AudioSet:
    """Mono clips of one sample rate, each its own length until `clips()` fixes one."""

    waves: list[np.ndarray]  # float32 in [-1, 1]
    sample_rate: int
    labels: np.ndarray | None  # int64 (N,), indexes `classes`
    classes: list[str]
    labelled_by: str = "none"  # "sub-folders", "file-name prefix", "npz" or "none"
    notes: tuple[str, ...] = ()  # what reading changed (resampling, mixing down), for the user

    def __post_init__(self) -> None:
        if self.labels is not None and len(self.labels) != len(self.waves):
            raise GanforgeError(f"{len(self.waves)} clips but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.waves)

    def subset(self, rows) -> AudioSet:
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        return AudioSet([self.waves[i] for i in rows], self.sample_rate,
                        None if self.labels is None else self.labels[rows], self.classes, self.labelled_by)

    def clips(self, length: int) -> np.ndarray:
        """(N, length) float32: each clip from its start, cut or padded with silence."""
        out = np.zeros((len(self.waves), length), dtype=np.float32)
        for row, wave in enumerate(self.waves):
            out[row, :min(length, len(wave))] = wave[:length]
        return out

    def seconds(self) -> np.ndarray:
        return np.array([len(w) for w in self.waves]) / self.sample_rate


def clip_length(audio: AudioSet, step: int = LENGTH_STEP) -> tuple[int, str]:
    """The clip length `fit` trains on: the LENGTH_QUANTILE of clip lengths, rounded up to `step`; and why."""
    lengths = np.array([len(w) for w in audio.waves])
    length = int(max(step, np.ceil(np.quantile(lengths, LENGTH_QUANTILE) / step) * step))
    whole = float(np.mean(lengths <= length))
    return length, (f"{length:,} samples ({length / audio.sample_rate:.2f} s at {audio.sample_rate:,} Hz): "
                    f"{whole:.0%} of the clips fit whole, longer ones are cut at the end, shorter ones padded "
                    "with silence")


def read_audio(path: str | os.PathLike, sample_rate: int | None = None) -> AudioSet:
    """A folder of WAV files (a sub-folder per class, or `LABEL_anything.wav` names, or neither) or an .npz
    written by `write_audio`. Every clip is resampled to `sample_rate` (default: the most common one)."""
    path = Path(path)
    if not path.exists():
        raise GanforgeError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix.lower() != ".npz":
            raise GanforgeError(f"{path}: sounds are read from a folder of WAV files or an .npz file")
        return _read_npz(path, sample_rate)
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if folders:
        stray = [p for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith(".")
                 and p.suffix.lower() not in NOTES_SUFFIXES]
        if stray:
            raise GanforgeError(f"{stray[0]}: a file beside class folders; put every clip in its class's folder")
        files = [(f, label) for label, folder in enumerate(folders) for f in _wav_files(folder)]
        classes, labelled_by = [folder.name for folder in folders], "sub-folders"
    else:
        found = _wav_files(path)
        classes, labels, labelled_by = _prefix_labels(found)
        files = list(zip(found, labels))
    if not files:
        raise GanforgeError(f"{path}: no WAV files found")
    read = [_read_wav(f) for f, _ in files]
    _check_channels(read, [f for f, _ in files])
    rates = Counter(rate for rate, _ in read)
    target = sample_rate or rates.most_common(1)[0][0]
    notes = []
    if set(rates) != {target}:
        others = sum(count for rate, count in rates.items() if rate != target)
        notes.append(f"resampled {others:,} clips to {target:,} Hz (rates found: "
                     + ", ".join(f"{rate:,} Hz x {count:,}" for rate, count in sorted(rates.items())) + ")")
    if read[0][1].ndim == 2:
        notes.append(f"mixed {len(read):,} stereo clips down to mono")
    waves = [resample(_mono(wave), rate, target) for rate, wave in read]
    labels = np.array([label for _, label in files], dtype=np.int64) if classes else None
    return AudioSet(waves, target, labels, classes, labelled_by, tuple(notes))


def _wav_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in NOTES_SUFFIXES)
    for file in files:
        if file.suffix.lower() != WAV_SUFFIX:
            raise GanforgeError(f"{file}: not a WAV file (clips are read from .wav files)")
    return files


def _prefix_labels(files: list[Path]) -> tuple[list[str], list[int], str]:
    """Labels from `LABEL_rest.wav` names when every file has one and they repeat (at least two clips per
    label on average, and at least two labels); otherwise none."""
    prefixes = [PREFIX.match(f.stem) for f in files]
    if not files or any(match is None for match in prefixes):
        return [], [0] * len(files), "none"
    names = [match.group(1) for match in prefixes]
    classes = sorted(set(names), key=lambda name: (not name.isdigit(), int(name) if name.isdigit() else 0, name))
    if len(classes) < 2 or len(classes) * 2 > len(files):
        return [], [0] * len(files), "none"
    return classes, [classes.index(name) for name in names], "file-name prefix"


def _read_wav(file: Path) -> tuple[int, np.ndarray]:
    import warnings

    from scipy.io import wavfile

    try:
        with warnings.catch_warnings():  # metadata chunks (LIST, cue) are skipped, which is what a reader wants
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, data = wavfile.read(file)
    except (ValueError, OSError, EOFError, TypeError) as error:
        raise GanforgeError(f"{file}: cannot be read as a WAV file ({str(error).splitlines()[0]})") from None
    if data.size == 0:
        raise GanforgeError(f"{file}: holds no samples")
    if data.ndim == 2 and data.shape[1] == 1:
        data = data[:, 0]
    if data.ndim > 2 or (data.ndim == 2 and data.shape[1] > 2):
        raise GanforgeError(f"{file}: {data.shape[1]} channels; only mono and stereo clips are read")
    return int(rate), _to_float(data, file)


def _to_float(data: np.ndarray, file: Path | str) -> np.ndarray:
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128) / 128
    if np.issubdtype(data.dtype, np.integer):
        return data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    if not np.isfinite(data).all():
        raise GanforgeError(f"{file}: holds values that are not finite numbers")
    return np.clip(data.astype(np.float32), -1, 1)


def _check_channels(read: list[tuple[int, np.ndarray]], files: list[Path]) -> None:
    stereo = [wave.ndim == 2 for _, wave in read]
    if any(stereo) and not all(stereo):
        odd = files[stereo.index(not stereo[0])]
        raise GanforgeError(f"{odd}: {'stereo' if not stereo[0] else 'mono'} among "
                            f"{'mono' if not stereo[0] else 'stereo'} clips; give every clip the same channels")


def _mono(wave: np.ndarray) -> np.ndarray:
    return wave.mean(axis=1).astype(np.float32) if wave.ndim == 2 else wave


def resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (anti-aliased) from `rate` to `target` Hz."""
    if rate == target:
        return wave.astype(np.float32)
    from scipy.signal import resample_poly

    common = gcd(rate, target)
    return np.clip(resample_poly(wave, target // common, rate // common), -1, 1).astype(np.float32)


def _read_npz(path: Path, sample_rate: int | None) -> AudioSet:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "audio" not in archive or "sample_rate" not in archive:
                raise GanforgeError(f"{path}: expected arrays 'audio' (clips x samples) and 'sample_rate'")
            audio, rate = archive["audio"], int(archive["sample_rate"])
            y = archive["y"] if "y" in archive else None
            classes = [str(c) for c in archive["classes"]] if "classes" in archive else None
    except (OSError, ValueError) as error:
        raise GanforgeError(f"{path}: not a readable .npz file ({error})") from None
    if audio.ndim != 2 or len(audio) == 0:
        raise GanforgeError(f"{path}: 'audio' has shape {audio.shape}; expected (clips, samples)")
    waves = [resample(_to_float(row, path), rate, sample_rate or rate) for row in audio]
    labels = None
    if y is not None:
        if y.shape != (len(audio),):
            raise GanforgeError(f"{path}: 'y' has shape {y.shape}; expected ({len(audio)},), one label per clip")
        if classes is None:
            names, labels = np.unique(y, return_inverse=True)
            classes = [str(c) for c in names]
        else:
            labels = y
        labels = labels.astype(np.int64)
    return AudioSet(waves, sample_rate or rate, labels, classes or [], "npz" if labels is not None else "none")


def is_audio_npz(path: Path) -> bool:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return "audio" in archive
    except (OSError, ValueError):
        return False


def is_audio_folder(path: Path) -> bool:
    """A folder whose files (or whose sub-folders' files) include WAV files."""
    for item in path.iterdir():
        if item.is_file() and item.suffix.lower() == WAV_SUFFIX:
            return True
        if item.is_dir() and any(f.suffix.lower() == WAV_SUFFIX for f in item.iterdir() if f.is_file()):
            return True
    return False


def wav_bytes(wave: np.ndarray, sample_rate: int) -> bytes:
    """A clip as 16-bit PCM WAV bytes (for a file or a data URI)."""
    from scipy.io import wavfile

    buffer = io.BytesIO()
    wavfile.write(buffer, sample_rate, to_pcm16(wave))
    return buffer.getvalue()


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(wave) * 32768), -32768, 32767).astype(np.int16)


def write_audio(out: str | os.PathLike, clips: np.ndarray, sample_rate: int, labels: np.ndarray | None,
                classes: list[str], force: bool = False) -> Path:
    """WAV files (a sub-folder per class when labelled, so the folder reads back with its labels), or one .npz
    when `out` ends in .npz. Written beside the destination, then moved in: nothing half-written, and an
    existing output is replaced only with `force` (a folder only when it holds nothing but WAV files)."""
    import shutil
    import tempfile

    from ..io import _atomic_write, check_writable

    out = Path(out)
    if out.suffix.lower() == ".npz":
        check_writable(out, force)
        extra = {} if labels is None else {"y": np.asarray(labels), "classes": np.array(classes)}
        arrays = {"audio": to_pcm16(clips), "sample_rate": np.array(sample_rate), **extra}

        def save(temporary: str) -> None:
            with open(temporary, "wb") as handle:  # a path would get ".npz" appended
                np.savez_compressed(handle, **arrays)
        return _atomic_write(out, save)
    if out.exists() and not force:
        raise GanforgeError(f"{out}: already exists (use --force to overwrite)")
    if not out.parent.exists():
        raise GanforgeError(f"{out.parent}: output folder does not exist")
    if out.exists() and not out.is_dir():
        raise GanforgeError(f"{out}: exists and is not a folder; refusing to replace it")
    if out.is_dir() and any(p.is_file() and p.suffix.lower() != WAV_SUFFIX for p in out.rglob("*")):
        raise GanforgeError(f"{out}: holds files that are not WAV files; refusing to replace it")
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        digits = len(str(len(clips)))
        for row, clip in enumerate(clips):
            name = f"{row:0{digits}d}.wav"
            folder = staging if labels is None else staging / classes[int(labels[row])]
            folder.mkdir(exist_ok=True)
            (folder / name).write_bytes(wav_bytes(clip, sample_rate))
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
