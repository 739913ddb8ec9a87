"""Texts in: one text per line, read strictly; tokens at the character or the word level.

Words are runs of letters/digits, or single punctuation marks, so "don't stop." is
["don", "'", "t", "stop", "."]; joining puts no space before punctuation, which gives back most text as
written. Ids 0-3 are reserved: padding, start, end, and (word level) unknown.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import GanforgeError

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]
LEVELS = ("char", "word")
MIN_WORD_COUNT = 2
WORD = re.compile(r"\w+|[^\w\s]")
NO_SPACE_BEFORE = set(".,;:!?)]}'%")
NO_SPACE_AFTER = set("([{'$")


SENTENCE_WORDS = 4  # lines averaging this many words or more, most of them recurring, are sentences
RECURRING_SHARE = 0.8


def choose_level(texts: list[str]) -> tuple[str, str]:
    """Word level for sentences (a word model spells every word right and reaches further per step);
    character level for names, codes and other short strings, whose "words" mostly occur once and which a
    word model could only copy. Returns the level and the reason in words."""
    words = [[w for w in split_words(text) if w[0].isalnum()] for text in texts]
    mean_words = sum(map(len, words)) / len(words)
    counts = Counter(w.lower() for line in words for w in line)
    total = sum(counts.values())
    recurring = sum(c for c in counts.values() if c >= MIN_WORD_COUNT) / total if total else 0.0
    figures = f"texts average {mean_words:.1f} words, {recurring:.0%} of them recurring"
    if mean_words >= SENTENCE_WORDS and recurring >= RECURRING_SHARE:
        return "word", f"{figures}: sentences"
    return "char", f"{figures}: names, codes or short strings"


def read_lines(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a UTF-8 text file (surrounding spaces stripped); at least two are needed."""
    path = Path(path)
    if not path.is_file():
        raise GanforgeError(f"{path}: no such file")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise GanforgeError(f"{path}: looks like a binary file, not text (one text per line)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise GanforgeError(f"{path}: not UTF-8 text (byte {error.start}); re-save it as UTF-8") from None
    if not text.strip():
        raise GanforgeError(f"{path}: is empty" if not text else f"{path}: holds only empty lines")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise GanforgeError(f"{path}: holds one text; a generator needs many (one text per line)")
    return lines


def split_words(text: str) -> list[str]:
    return WORD.findall(text)


def join_words(words: list[str]) -> str:
    out = ""
    for word in words:
        if out and word not in NO_SPACE_BEFORE and out[-1] not in NO_SPACE_AFTER:
            out += " "
        out += word
    return out


@dataclass
class Vocabulary:
    """Tokens by id (the four specials first). Characters: every character seen. Words: the `max_words`
    most frequent of those seen at least twice, the rest unknown."""

    level: str
    tokens: list[str]

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise GanforgeError(f"--level {self.level!r} is not one of {', '.join(LEVELS)}")
        self.index = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def fit(cls, texts: list[str], level: str = "char", max_words: int = 20_000) -> Vocabulary:
        if level not in LEVELS:
            raise GanforgeError(f"--level {level!r} is not one of {', '.join(LEVELS)}")
        counts = Counter(token for text in texts for token in cls.split(level, text))
        if level == "char":
            kept = sorted(counts)
        else:  # a word seen once cannot be learned, only copied: it becomes unknown (never generated)
            kept = [t for t, count in counts.most_common(max_words) if count >= MIN_WORD_COUNT]
        return cls(level, SPECIAL + kept)

    @staticmethod
    def split(level: str, text: str) -> list[str]:
        return list(text) if level == "char" else split_words(text)

    def encode(self, text: str) -> list[int]:
        return [self.index.get(token, UNK) for token in self.split(self.level, text)]

    def decode(self, ids: list[int]) -> str:
        tokens = [self.tokens[i] for i in ids if i >= UNK]  # padding, start and end are not text
        return "".join(tokens) if self.level == "char" else join_words(tokens)

    def __len__(self) -> int:
        return len(self.tokens)
