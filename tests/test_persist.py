import json

import pytest

from ganforge import GanforgeError, TabularSynthesizer


@pytest.fixture
def model_dir(tmp_path, tiny, table):
    return TabularSynthesizer(**{**tiny, "epochs": 1}).fit(table).save(tmp_path / "model")


def edit_config(path, change):
    config = json.loads((path / "config.json").read_text())
    change(config)
    (path / "config.json").write_text(json.dumps(config))


def test_truncated_weights_name_the_file(model_dir):
    weights = model_dir / "generator.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(GanforgeError, match="generator.safetensors: damaged"):
        TabularSynthesizer.load(model_dir)


def test_missing_keys_name_the_file(model_dir):
    edit_config(model_dir, lambda c: c.pop("transform"))
    with pytest.raises(GanforgeError, match="config.json: missing key.*transform"):
        TabularSynthesizer.load(model_dir)


def test_newer_format_is_refused(model_dir):
    edit_config(model_dir, lambda c: c.update(format_version=99))
    with pytest.raises(GanforgeError, match="format version 99 is newer"):
        TabularSynthesizer.load(model_dir)


def test_weights_that_do_not_match_the_config(model_dir):
    edit_config(model_dir, lambda c: c["tabular_config"].update(embedding_dim=7))
    with pytest.raises(GanforgeError, match="does not match config.json"):
        TabularSynthesizer.load(model_dir)


def test_not_json_and_not_a_model(model_dir, tmp_path):
    (model_dir / "config.json").write_text("{oops")
    with pytest.raises(GanforgeError, match="not valid JSON"):
        TabularSynthesizer.load(model_dir)
    with pytest.raises(GanforgeError, match="not a ganforge model folder"):
        TabularSynthesizer.load(tmp_path)


def test_force_never_replaces_a_folder_that_is_not_a_model(tmp_path, tiny, table):
    precious = tmp_path / "photos"
    precious.mkdir()
    (precious / "cat.jpg").write_text("meow")
    model = TabularSynthesizer(**{**tiny, "epochs": 1}).fit(table)
    with pytest.raises(GanforgeError, match="not a ganforge model folder"):
        model.save(precious, force=True)
    assert (precious / "cat.jpg").read_text() == "meow"


def test_ganforge_load_gives_back_the_class_that_wrote_the_folder(model_dir, tmp_path):
    import numpy as np

    import ganforge
    from ganforge import ImageSynthesizer
    from ganforge.image.data import ImageSet

    table_model = ganforge.load(model_dir)
    assert type(table_model) is TabularSynthesizer
    assert table_model.sample(20, seed=1).equals(TabularSynthesizer.load(model_dir).sample(20, seed=1))
    assert table_model.sample(num_rows=20, seed=1).equals(table_model.sample(20, seed=1))  # the old name stays
    with pytest.raises(GanforgeError, match="number of rows once"):
        table_model.sample(seed=1)
    pictures = np.random.default_rng(0).integers(0, 256, (32, 1, 8, 8), dtype=np.uint8)
    image_dir = ImageSynthesizer(epochs=1, width=8, noise_dim=8).fit(ImageSet(pictures, None, [])).save(tmp_path / "i")
    assert type(ganforge.load(image_dir)) is ImageSynthesizer
    with pytest.raises(GanforgeError, match="holds a 'image' model, not a 'tabular' one"):
        TabularSynthesizer.load(image_dir)
    edit_config(image_dir, lambda c: c.update(model_type="sound"))
    with pytest.raises(GanforgeError, match="unknown model type 'sound'"):
        ganforge.load(image_dir)
