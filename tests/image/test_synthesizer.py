"""ImageSynthesizer: samples of the right shape and type, repeatable under a seed, faithful to their label,
saved and loaded exactly."""

import json

import numpy as np
import pytest
import torch

from ganforge import GanforgeError, ImageSynthesizer
from ganforge.core.device import native_bfloat16
from ganforge.image.data import ImageSet
from ganforge.image.features import class_probabilities
from tests.conftest import run_ganforge as ganforge

SHORT = dict(epochs=2, width=16, noise_dim=32, seed=0)


@pytest.fixture(scope="module")
def conditional(digits):
    """A conditional DCGAN after a short fit on the digits (a few seconds on two cores)."""
    return ImageSynthesizer(epochs=40, width=32, seed=0).fit(digits)


def test_samples_are_uint8_images_with_labels(conditional):
    images = conditional.sample(25, seed=1)
    assert images.images.dtype == np.uint8 and images.images.shape == (25, 1, 8, 8)
    assert images.labels is not None and set(images.labels) <= set(range(10))
    assert images.images.std() > 10  # not one flat colour
    assert conditional.image_config.conditioning == "cgan"  # labelled images: conditional by default


def test_conditional_samples_look_like_their_label(conditional, digit_features):
    hits = []
    for label in conditional.classes_:
        images = conditional.sample(30, seed=2, label=label)
        assert (images.labels == conditional.classes_.index(label)).all()
        predicted = class_probabilities(digit_features, images.images).argmax(1)
        hits.append((np.asarray(digit_features.class_names)[predicted] == label).mean())
    assert np.mean(hits) > 0.5  # chance is 0.1


def test_sampling_is_repeatable_and_saved_models_sample_the_same(conditional, tmp_path):
    first, again = conditional.sample(16, seed=3), conditional.sample(16, seed=3)
    assert np.array_equal(first.images, again.images) and np.array_equal(first.labels, again.labels)
    assert not np.array_equal(first.images, conditional.sample(16, seed=4).images)
    conditional.save(tmp_path / "model")
    loaded = ImageSynthesizer.load(tmp_path / "model")
    assert np.array_equal(loaded.sample(16, seed=3).images, first.images)
    assert loaded.classes_ == conditional.classes_ and loaded.image_config == conditional.image_config


def test_fits_are_repeatable_under_a_seed(digits):
    small = digits.subset(np.arange(200))
    a = ImageSynthesizer(**SHORT).fit(small).sample(8, seed=0).images
    b = ImageSynthesizer(**SHORT).fit(small).sample(8, seed=0).images
    assert np.array_equal(a, b)


@pytest.mark.parametrize("settings", [
    dict(architecture="resnet", loss="hinge", spectral_norm=True, diffaugment=True),
    dict(conditioning="acgan", loss="wgan-gp", image_size=16, mixed_precision=True),  # the penalty in float32
    dict(conditioning="none", loss="lsgan", r1_penalty=1.0),
    dict(loss="nonsaturating", spectral_norm=False, mode_seeking=0.5),
])
def test_every_game_trains_and_samples(digits, settings):
    model = ImageSynthesizer(**{**SHORT, "epochs": 1, **settings}).fit(digits.subset(np.arange(128)))
    images = model.sample(6, seed=0)
    assert images.images.shape == (6, 1, 8, 8)  # the input's size, whatever size the networks work at
    assert all(np.isfinite([h["loss_d"], h["loss_g"]]).all() for h in model.training_["history"])


def test_samples_come_out_at_the_input_size_and_channels(tmp_path):
    rng = np.random.default_rng(0)
    pictures = rng.integers(0, 256, (64, 3, 10, 12), dtype=np.uint8)  # learned at 16 px, sampled at 10 x 12
    model = ImageSynthesizer(**{**SHORT, "epochs": 1}).fit(ImageSet(pictures, None, []))
    assert model.image_config.image_size == 16
    assert model.sample(5, seed=0).images.shape == (5, 3, 10, 12)
    model.save(tmp_path / "m")
    again = ImageSynthesizer.load(tmp_path / "m").sample(5, seed=0).images
    assert np.array_equal(again, model.sample(5, seed=0).images)


def test_images_are_padded_to_the_network_size_and_older_folders_still_stretch(tmp_path):
    rng = np.random.default_rng(0)
    pictures = rng.integers(0, 256, (64, 1, 12, 12), dtype=np.uint8)
    model = ImageSynthesizer(**{**SHORT, "epochs": 1}).fit(ImageSet(pictures, None, []))
    assert model.image_config.resize == "pad"
    model.save(tmp_path / "m")
    assert "at 16px (12x12 padded to fit)" in ganforge("info", "m", cwd=tmp_path).stdout
    config_file = tmp_path / "m" / "config.json"
    config = json.loads(config_file.read_text())
    del config["image_config"]["resize"]  # as a folder saved before padding was written
    config_file.write_text(json.dumps(config))
    older = ImageSynthesizer.load(tmp_path / "m")
    assert older.image_config.resize == "interpolate"
    assert "(12x12 resized to fit)" in ganforge("info", "m", cwd=tmp_path).stdout
    assert not np.array_equal(older.sample(5, seed=0).images, model.sample(5, seed=0).images)
    with pytest.raises(GanforgeError, match="resize"):
        ImageSynthesizer(resize="stretch")


def test_bad_requests_are_named(conditional, digits):
    with pytest.raises(GanforgeError, match="unknown label"):
        conditional.sample(3, label="eleven")
    with pytest.raises(GanforgeError, match="at least 1"):
        conditional.sample(0)
    unlabelled = ImageSet(digits.images[:64], None, [])
    with pytest.raises(GanforgeError, match="needs labelled images"):
        ImageSynthesizer(**SHORT, conditioning="acgan").fit(unlabelled)
    model = ImageSynthesizer(**SHORT).fit(unlabelled)
    assert model.image_config.conditioning == "none"
    with pytest.raises(GanforgeError, match="not conditional"):
        model.sample(3, label="3")
    with pytest.raises(GanforgeError, match="image_size"):
        ImageSynthesizer(image_size=12)


def test_the_default_recipe_is_the_one_the_benchmark_chose():
    """benchmarks/image_quality.py's tuning half chose hinge loss with spectral norm for the default command."""
    model = ImageSynthesizer()
    assert (model.train_config.loss, model.train_config.spectral_norm) == ("hinge", True)
    assert model.image_config.conditioning == "auto" and model.image_config.architecture == "dcgan"
    assert model.image_config.mode_seeking is None  # by image size: lifted recall on every tuning set
    assert model.train_config.ema_decay is None  # by image size too
    assert model.train_config.mixed_precision is None  # bfloat16 where the processor computes it natively
    assert model.image_config.label_filter and model.image_config.temperature is None  # 1.1 under the filter


@pytest.mark.parametrize("side, width, rate, seeking, ema", [(8, 64, 2e-4, 0.1, 0.999), (28, 16, 1e-3, 0.4, 0.995)])
def test_width_learning_rate_mode_seeking_ema_and_precision_follow_the_image_size(side, width, rate, seeking, ema):
    """Narrow, fast networks from 32 px: at 64 channels a 28 px set trained too few steps in minutes to learn."""
    pictures = ImageSet(np.random.default_rng(0).integers(0, 256, (16, 1, side, side), dtype=np.uint8), None, [])
    model = ImageSynthesizer(epochs=1, noise_dim=8, seed=0).fit(pictures)
    assert model.image_config.width == width and model.image_config.mode_seeking == seeking
    assert ImageSynthesizer(epochs=1, noise_dim=8, mode_seeking=0.0).fit(pictures).image_config.mode_seeking == 0
    assert model.train_config.learning_rates == (rate, rate) and model.train_config.ema_decay == ema
    assert ImageSynthesizer(epochs=1, noise_dim=8, ema_decay=0.9).fit(pictures).train_config.ema_decay == 0.9
    assert model.sample(2, seed=0).images.shape == (2, 1, side, side)
    native = native_bfloat16(torch.device("cpu"))
    assert model.train_config.mixed_precision is (native and side > 8)  # bfloat16 gains nothing on 8 px maps
    told = ImageSynthesizer(epochs=1, noise_dim=8, width=8, generator_lr=3e-4, seed=0).fit(pictures)
    assert told.image_config.width == 8 and told.train_config.learning_rates == (3e-4, rate)


def test_mode_seeking_pairs_labels_and_punishes_a_generator_that_ignores_its_noise():
    import torch

    from ganforge.core.batches import ConditionalBatches

    labels = torch.arange(10).repeat(4)
    problem = ConditionalBatches(torch.zeros(40, 1, 8, 8), labels, 10, 8, 4, mode_seeking=1.0)
    condition = problem.sample_condition()
    assert torch.equal(condition[:4], condition[4:8])  # two noises for each label

    def ignores_noise(noise, condition):
        return condition.sum(1, keepdim=True)[:, :, None, None].expand(-1, 1, 8, 8) * torch.ones(1, requires_grad=True)

    def uses_noise(noise, condition):
        return noise[:, :1, None, None].expand(-1, 1, 8, 8) * torch.ones(1, requires_grad=True)

    _, stuck = problem.generate(ignores_noise, condition)
    _, varied = problem.generate(uses_noise, condition)
    assert stuck > 1000 and varied < 10
    with torch.no_grad():  # the critic's step pays nothing
        assert problem.generate(ignores_noise, condition)[1] == 0


def test_class_guidance_follows_the_size_and_the_labels_and_gives_the_critic_class_logits():
    """Class guidance (chosen on the 28 px tuning images) from 32 px, for labelled images only."""
    import torch

    from ganforge.image.synthesizer import GUIDANCE

    rng = np.random.default_rng(0)
    labelled = ImageSet(rng.integers(0, 256, (20, 1, 28, 28), dtype=np.uint8), np.arange(20) % 2, ["a", "b"])
    model = ImageSynthesizer(epochs=1, noise_dim=8, seed=0).fit(labelled)
    assert GUIDANCE > 0 and model.image_config.class_guidance == GUIDANCE
    images, labels = torch.zeros(3, 1, 32, 32), torch.eye(2)[[0, 1, 0]]
    assert model._networks(torch.device("cpu"))[1](images, labels).shape == (3, 3)  # score, then two classes
    unguided = ImageSynthesizer(epochs=1, noise_dim=8, seed=0, class_guidance=0).fit(labelled)
    assert unguided._networks(torch.device("cpu"))[1](images, labels).shape == (3, 1)
    unlabelled = ImageSet(labelled.images, None, [])
    assert ImageSynthesizer(epochs=1, noise_dim=8, seed=0).fit(unlabelled).image_config.class_guidance == 0
    small = ImageSet(rng.integers(0, 256, (20, 1, 8, 8), dtype=np.uint8), np.arange(20) % 2, ["a", "b"])
    assert ImageSynthesizer(epochs=1, noise_dim=8, seed=0).fit(small).image_config.class_guidance == 0
    with pytest.raises(GanforgeError, match="class_guidance"):
        ImageSynthesizer(class_guidance=-1)


def test_class_guidance_trains_the_critics_classes_on_real_images_only():
    """AC-GAN also teaches the critic to name generated images, which narrows their classes; guidance does not:
    with it, the fake images' class logits send no gradient into the critic."""
    import torch
    from torch import nn

    from ganforge.config import TrainConfig
    from ganforge.core.batches import ConditionalBatches
    from ganforge.core.trainer import _Run

    class Critic(nn.Module):  # real images are all 0 and fake ones all 1; the class logits read which
        def __init__(self):
            super().__init__()
            self.real_classes, self.fake_classes = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2))

        def forward(self, images, condition):
            fake = images.mean(dim=(1, 2, 3))[:, None]
            logits = (1 - fake) * self.real_classes + fake * self.fake_classes
            return torch.cat([images.mean(dim=(1, 2, 3))[:, None], logits], dim=1)

    def generator(noise, condition):
        return torch.ones(len(noise), 1, 4, 4) + 0 * noise.sum()

    def fake_gradient(guidance):
        problem = ConditionalBatches(torch.zeros(8, 1, 4, 4), torch.zeros(8, dtype=torch.long), 2, 4, 3,
                                     class_guidance=guidance)
        critic = Critic()
        run = _Run(nn.Linear(1, 1), critic, problem, TrainConfig(loss="hinge", ema_decay=0.0), 1, None, None, 1,
                   None, None, None, "test")
        run.generator = generator
        run.critic_step()
        return critic.fake_classes.grad

    assert fake_gradient(0.0).abs().sum() > 0  # AC-GAN
    assert fake_gradient(0.5) is None or fake_gradient(0.5).abs().sum() == 0


def test_a_lower_temperature_draws_images_nearer_each_class_middle_and_older_folders_sample_at_one(conditional,
                                                                                                   tmp_path):
    def spread(temperature):  # per-pixel spread across draws for one label
        return conditional.sample(60, seed=4, label="3", temperature=temperature).images.astype(float).std(0).mean()

    assert spread(0.3) < spread(1.0)
    assert np.array_equal(conditional.sample(8, seed=5).images,
                          conditional.sample(8, seed=5, temperature=conditional.image_config.temperature).images)
    with pytest.raises(GanforgeError, match="--temperature must be positive"):
        conditional.sample(2, temperature=0)
    conditional.save(tmp_path / "m")
    config_file = tmp_path / "m" / "config.json"
    config = json.loads(config_file.read_text())
    del config["image_config"]["temperature"]  # as a folder saved before the setting existed
    config_file.write_text(json.dumps(config))
    older = ImageSynthesizer.load(tmp_path / "m")
    assert older.image_config.temperature == 1.0
    assert np.array_equal(older.sample(6, seed=2).images, conditional.sample(6, seed=2, temperature=1.0).images)
    assert "sampling temperature 1.0" in ganforge("info", "m", cwd=tmp_path).stdout
    result = ganforge("sample", "m", "--num", "4", "--out", "s.npz", "--temperature", "0.5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def guided(digits):
    """A conditional model whose critic names classes (class guidance, here asked for at 8 px)."""
    return ImageSynthesizer(epochs=30, width=32, seed=0, class_guidance=0.05).fit(digits)


def critic_names(model, images):
    """Whether the model's critic names each image as its label."""
    from torch import nn

    from ganforge.image.data import to_network

    pixels = to_network(images.images, model.image_config.image_size, model.image_config.resize)
    condition = nn.functional.one_hot(torch.as_tensor(images.labels), len(model.classes_)).float()
    with torch.no_grad():
        return (model.critic_(pixels, condition)[:, 1:].argmax(1) == torch.as_tensor(images.labels)).numpy()


def test_the_label_filter_keeps_the_first_draw_the_critic_names_as_its_label(guided, conditional, digits, tmp_path):
    from ganforge.image.synthesizer import FILTERED_TEMPERATURE

    assert guided.label_filter_active and guided.image_config.label_filter
    assert guided.image_config.temperature == FILTERED_TEMPERATURE > 1  # the filter makes room for a wider noise
    assert conditional.image_config.temperature == 1.0  # no filter without a critic that names classes
    asked = ImageSynthesizer(epochs=1, width=16, noise_dim=8, seed=0, class_guidance=0.05, temperature=0.9)
    assert asked.fit(digits).image_config.temperature == 0.9
    checked, plain = guided.sample(300, seed=3), guided.sample(300, seed=3, label_filter=False)
    assert np.array_equal(checked.labels, plain.labels)
    assert critic_names(guided, checked).mean() > max(0.9, critic_names(guided, plain).mean())
    right_first = critic_names(guided, plain)  # named right at the first draw: that draw is kept, unchanged
    assert 0 < right_first.mean() < 1
    assert np.array_equal(checked.images[right_first], plain.images[right_first])
    assert not np.array_equal(checked.images[~right_first], plain.images[~right_first])
    assert np.array_equal(checked.images, guided.sample(300, seed=3).images)  # repeatable under a seed
    guided.save(tmp_path / "m")  # the critic travels with the model
    loaded = ImageSynthesizer.load(tmp_path / "m")
    assert loaded.label_filter_active and np.array_equal(loaded.sample(300, seed=3).images, checked.images)
    assert "the critic names as its label" in ganforge("info", "m", cwd=tmp_path).stdout
    result = ganforge("sample", "m", "--num", "300", "--seed", "3", "--out", "plain.npz", "--no-label-filter",
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "plain.npz") as archive:
        assert np.array_equal(archive["x"], plain.images[:, 0])


def test_a_model_whose_critic_names_no_classes_samples_every_draw_and_older_folders_load(conditional, guided,
                                                                                         tmp_path):
    from safetensors.torch import load_file, save_file

    assert conditional.critic_ is None and not conditional.label_filter_active
    every = conditional.sample(20, seed=1, label_filter=False)
    assert np.array_equal(conditional.sample(20, seed=1).images, every.images)
    with pytest.raises(GanforgeError, match="cannot filter by label"):
        conditional.sample(2, label_filter=True)
    guided.save(tmp_path / "m")  # as a folder saved before the filter: no critic, no setting
    weights_file = tmp_path / "m" / "generator.safetensors"
    save_file({k: v for k, v in load_file(weights_file).items() if not k.startswith("critic.")}, weights_file)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    del config["image_config"]["label_filter"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    older = ImageSynthesizer.load(tmp_path / "m")
    assert older.critic_ is None and not older.image_config.label_filter
    assert np.array_equal(older.sample(50, seed=2).images, guided.sample(50, seed=2, label_filter=False).images)
    assert "sampling:   every draw kept" in ganforge("info", "m", cwd=tmp_path).stdout
