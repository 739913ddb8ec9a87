"""Reading and writing clips: WAV round trips, labels from folders or file names, one rate, one length, and a
clear line for every bad input."""

import numpy as np
import pytest

from ganforge import GanforgeError
from ganforge.audio.data import AudioSet, clip_length, read_audio, write_audio

from .conftest import RATE, tone, write_wav


def test_wav_round_trip_within_quantisation(tmp_path):
    rng = np.random.default_rng(0)
    clips = np.clip(rng.normal(0, 0.3, (6, 2048)), -1, 1).astype(np.float32)
    labels = np.array([0, 1, 2, 0, 1, 2])
    write_audio(tmp_path / "out", clips, RATE, labels, ["a", "b", "c"])
    back = read_audio(tmp_path / "out")
    assert back.classes == ["a", "b", "c"] and back.labelled_by == "sub-folders"
    order = np.argsort(np.concatenate([np.flatnonzero(labels == k) for k in range(3)]))
    assert np.abs(back.clips(2048)[order] - clips).max() <= 1 / 32768 + 1e-7
    assert list(back.labels[order]) == list(labels)
    write_audio(tmp_path / "out.npz", clips, RATE, labels, ["a", "b", "c"])
    packed = read_audio(tmp_path / "out.npz")
    assert packed.classes == ["a", "b", "c"] and np.abs(packed.clips(2048) - clips).max() <= 1 / 32768 + 1e-7
    with pytest.raises(GanforgeError, match="already exists"):
        write_audio(tmp_path / "out", clips, RATE, None, [])


def test_labels_from_file_name_prefix_or_none(tmp_path):
    for name in ("7_anna_1", "7_anna_2", "3_ben_1", "3_ben_2"):
        write_wav(tmp_path / "prefixed" / f"{name}.wav", tone(440))
    audio = read_audio(tmp_path / "prefixed")
    assert audio.classes == ["3", "7"] and audio.labelled_by == "file-name prefix"
    assert list(audio.labels) == [0, 0, 1, 1]
    for name in ("rain", "wind", "sea"):
        write_wav(tmp_path / "plain" / f"{name}.wav", tone(220))
    (tmp_path / "plain" / "README.md").write_text("notes beside the clips are not clips")
    plain = read_audio(tmp_path / "plain")
    assert plain.labels is None and plain.labelled_by == "none" and len(plain) == 3


def test_other_rates_are_resampled_to_the_most_common_and_length_is_chosen(tmp_path):
    write_wav(tmp_path / "a.wav", tone(300, 0.5))
    write_wav(tmp_path / "b.wav", tone(300, 0.5))
    write_wav(tmp_path / "c.wav", tone(300, 0.5, rate=16000), rate=16000)
    audio = read_audio(tmp_path)
    assert audio.sample_rate == RATE and {len(w) for w in audio.waves} == {4000}
    assert "resampled 1 clips to 8,000 Hz" in audio.notes[0]
    length, reason = clip_length(audio)
    assert length == 4096 and "100% of the clips fit whole" in reason


def test_clips_are_cut_or_padded_from_their_start():
    audio = AudioSet([np.ones(3, np.float32), np.ones(6, np.float32)], RATE, None, [])
    assert audio.clips(4).tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]


@pytest.mark.parametrize("make, message", [
    (lambda d: (d / "clip.wav").write_bytes(b"RIFF....not really"), "clip.wav: cannot be read as a WAV file"),
    (lambda d: (d / "song.mp3").write_bytes(b"ID3"), "song.mp3: not a WAV file"),
    (lambda d: (write_wav(d / "a.wav", tone(200)), write_wav(d / "b.wav", np.stack([tone(200)] * 2, 1))),
     "b.wav: stereo among mono clips"),
    (lambda d: None, "no WAV files found"),
    (lambda d: write_wav(d / "empty.wav", np.zeros(0, np.int16)), "empty.wav: holds no samples"),
])
def test_bad_input_is_one_line_naming_the_file(tmp_path, make, message):
    folder = tmp_path / "clips"
    folder.mkdir()
    make(folder)
    with pytest.raises(GanforgeError, match=message):
        read_audio(folder)
