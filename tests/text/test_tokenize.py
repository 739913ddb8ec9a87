"""Reading one text per line, strictly, and the two token levels."""

import pytest

from ganforge import GanforgeError
from ganforge.text.tokenize import UNK, Vocabulary, join_words, read_lines, split_words


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\n  \n\n", "only empty lines"),
    (b"just one line\n", "holds one text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    (b"caf\xe9 au lait\nsecond\n", "not UTF-8"),
])
def test_bad_files_are_named(tmp_path, content, message):
    path = tmp_path / "lines.txt"
    path.write_bytes(content)
    with pytest.raises(GanforgeError, match=message):
        read_lines(path)


def test_lines_are_stripped_and_blank_ones_dropped(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("  first line \n\nsecond\r\nthird\n", encoding="utf-8")
    assert read_lines(path) == ["first line", "second", "third"]
    with pytest.raises(GanforgeError, match="no such file"):
        read_lines(tmp_path / "missing.txt")


def test_words_split_and_join_back():
    text = "Don't stop (now), it's 5% off!"
    assert split_words("don't stop.") == ["don", "'", "t", "stop", "."]
    assert join_words(split_words(text)) == text


def test_vocabularies_round_trip_and_mark_unknown_words():
    texts = ["the cat sat.", "the dog ran!", "a cat ran."]
    chars = Vocabulary.fit(texts, "char")
    assert chars.decode(chars.encode("the cat ran.")) == "the cat ran."
    words = Vocabulary.fit(texts, "word", max_words=4)
    assert len(words) == 8 and words.encode("zebra")[0] == UNK
    assert words.decode(words.encode("the cat ran.")) == "the cat ran."
    with pytest.raises(GanforgeError, match="level"):
        Vocabulary.fit(texts, "sentence")
