"""Reading and writing images: folders with class sub-folders, flat folders, .npz; every bad input named."""

import numpy as np
import pytest
from PIL import Image

from ganforge import GanforgeError
from ganforge.image.data import default_size, from_network, read_images, to_network, to_size, write_images


def _png(path, size=(8, 8), mode="L", value=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 0, 0)).save(path)


def test_class_folders_give_labels_and_round_trip(tmp_path, digits):
    write_images(tmp_path / "digits", digits.images[:60], digits.labels[:60], digits.classes)
    back = read_images(tmp_path / "digits")
    assert back.images.dtype == np.uint8 and back.images.shape == (60, 1, 8, 8)
    assert back.classes == sorted({digits.classes[i] for i in digits.labels[:60]})
    # the same images, grouped by class: compare as multisets per label
    for name in back.classes:
        ours = digits.images[:60][np.asarray(digits.classes)[digits.labels[:60]] == name]
        theirs = back.images[np.asarray(back.classes)[back.labels] == name]
        assert sorted(map(bytes, ours)) == sorted(map(bytes, theirs))


def test_npz_round_trip_with_string_labels_and_float_pixels(tmp_path, digits):
    write_images(tmp_path / "d.npz", digits.images[:20], digits.labels[:20], digits.classes)
    back = read_images(tmp_path / "d.npz")
    assert np.array_equal(back.images, digits.images[:20])
    assert [back.classes[i] for i in back.labels] == [digits.classes[i] for i in digits.labels[:20]]
    np.savez(tmp_path / "f.npz", x=np.random.default_rng(0).random((5, 6, 6, 3)))
    floats = read_images(tmp_path / "f.npz")
    assert floats.images.shape == (5, 3, 6, 6) and floats.labels is None and floats.images.max() > 200


def test_flat_folder_is_unlabelled_and_colour_wins(tmp_path):
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png", mode="RGB")
    images = read_images(tmp_path)
    assert images.labels is None and images.images.shape == (2, 3, 8, 8)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "no images found"),
    (lambda p: (_png(p / "a" / "1.png"), _png(p / "b" / "2.png", size=(16, 8))), "differ in size"),
    (lambda p: (_png(p / "a" / "1.png"), (p / "a" / "2.png").write_bytes(b"not a png")), "cannot be read"),
    (lambda p: (_png(p / "a" / "1.png"), (p / "a" / "notes.txt").write_text("hi")), "not an image file"),
    (lambda p: (_png(p / "a" / "1.png"), (p / "stray.png").write_bytes(b"")), "beside class folders"),
])
def test_bad_folders_are_named(tmp_path, make, message):
    folder = tmp_path / "images"
    make(folder)
    with pytest.raises(GanforgeError, match=message):
        read_images(folder)


def test_bad_npz_is_named(tmp_path):
    np.savez(tmp_path / "bad.npz", y=np.arange(3))
    with pytest.raises(GanforgeError, match="no array 'x'"):
        read_images(tmp_path / "bad.npz")
    np.savez(tmp_path / "shape.npz", x=np.zeros((2, 3)))
    with pytest.raises(GanforgeError, match="expected"):
        read_images(tmp_path / "shape.npz")
    np.savez(tmp_path / "labels.npz", x=np.zeros((3, 4, 4)), y=np.arange(2))
    with pytest.raises(GanforgeError, match="one label per image"):
        read_images(tmp_path / "labels.npz")
    (tmp_path / "broken.npz").write_bytes(b"garbage")
    with pytest.raises(GanforgeError, match="not a readable"):
        read_images(tmp_path / "broken.npz")


def test_network_scaling_inverts_and_sizes_round_up(digits):
    tensor = to_network(digits.images[:10], 8)
    assert tensor.dtype.is_floating_point and tensor.min() >= -1 and tensor.max() <= 1
    assert np.array_equal(from_network(tensor), digits.images[:10])
    assert to_network(digits.images[:10], 32).shape == (10, 1, 32, 32)
    assert default_size(np.zeros((1, 1, 28, 28))) == 32 and default_size(np.zeros((1, 3, 8, 8))) == 8


def test_smaller_images_are_padded_by_their_edges_and_cropped_back_exactly():
    rng = np.random.default_rng(0)
    pictures = rng.integers(0, 256, (4, 3, 28, 20), dtype=np.uint8)
    canvas = to_network(pictures, 32)
    assert canvas.shape == (4, 3, 32, 32)
    assert np.array_equal(from_network(canvas[..., 2:30, 6:26]), pictures)  # centred, untouched
    assert np.array_equal(from_network(canvas[..., :, :6]), np.repeat(from_network(canvas[..., :, 6:7]), 6, -1))
    assert np.array_equal(from_network(to_size(canvas, [28, 20])), pictures)
    stretched = from_network(to_size(to_network(pictures, 32, "interpolate"), [28, 20], "interpolate"))
    assert stretched.shape == pictures.shape and not np.array_equal(stretched, pictures)  # the blur padding avoids
    larger = rng.integers(0, 256, (2, 1, 40, 40), dtype=np.uint8)
    assert to_network(larger, 32).shape == (2, 1, 32, 32)  # shrunk, whatever the setting
    assert to_size(to_network(larger, 32), [40, 40]).shape == (2, 1, 40, 40)


def test_writing_never_replaces_without_force_or_what_is_not_images(tmp_path, digits):
    write_images(tmp_path / "out", digits.images[:4], None, [])
    with pytest.raises(GanforgeError, match="already exists"):
        write_images(tmp_path / "out", digits.images[:4], None, [])
    (tmp_path / "out" / "keep.csv").write_text("a\n")
    with pytest.raises(GanforgeError, match="not images"):
        write_images(tmp_path / "out", digits.images[:4], None, [], force=True)
    assert (tmp_path / "out" / "keep.csv").exists()


def test_fashion_mnist_is_read_from_its_idx_files(tmp_path, monkeypatch):
    import gzip
    import struct

    from ganforge import datasets

    pixels = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(struct.pack(">4B3I", 0, 0, 8, 3, 3, 28, 28) + pixels.tobytes())
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as handle:
        handle.write(struct.pack(">4BI", 0, 0, 8, 1, 3) + bytes([9, 0, 4]))
    monkeypatch.setattr(datasets, "FASHION_FOLDER", tmp_path)
    images = datasets.load_image_dataset("fashion-mnist", "test")
    assert np.array_equal(images.images[:, 0], pixels) and images.labels.tolist() == [9, 0, 4]
    assert images.classes[9] == "ankle-boot"
    with pytest.raises(GanforgeError, match="apt-get install dataset-fashion-mnist"):
        datasets.load_image_dataset("fashion-mnist", "train")
