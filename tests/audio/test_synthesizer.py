"""AudioSynthesizer: clips of the training rate and chosen length, a label per class, repeatable under a
seed, saved and loaded exactly, for both the spectrogram and the waveform GAN."""

import numpy as np
import pytest
import torch

import ganforge
from ganforge import AudioSynthesizer, GanforgeError
from ganforge.audio.data import read_audio
from ganforge.audio.networks import PhaseShuffle

TINY = dict(epochs=1, batch_size=16, noise_dim=16, width=8, griffin_lim_iterations=4, seed=0)


@pytest.fixture(scope="module", params=["spectrogram", "waveform"])
def fitted(request, spoken_digits):
    audio = read_audio(spoken_digits)
    return audio, AudioSynthesizer(representation=request.param, **TINY).fit(audio)


def test_samples_have_the_training_rate_length_and_labels(fitted):
    audio, model = fitted
    clips = model.sample(12, seed=1)
    assert clips.sample_rate == 8000 and len(clips) == 12
    length = model.audio_config.clip_samples
    assert {len(w) for w in clips.waves} == {length} and length % 1024 == 0
    assert clips.classes == [str(d) for d in range(10)] and set(clips.labels) <= set(range(10))
    assert all(np.abs(w).max() <= 1 and np.isfinite(w).all() for w in clips.waves)
    assert model.audio_config.conditioning == "cgan" and model.training_["labelled_by"] == "file-name prefix"
    sevens = model.sample(5, seed=1, label="7")
    assert (sevens.labels == 7).all()
    with pytest.raises(GanforgeError, match="unknown label '12'"):
        model.sample(2, label="12")


def test_same_seed_same_clips_and_save_load_round_trip(fitted, tmp_path):
    _, model = fitted
    first, again = model.sample(6, seed=3), model.sample(6, seed=3)
    assert np.array_equal(np.stack(first.waves), np.stack(again.waves))
    model.save(tmp_path / "m")
    loaded = ganforge.load(tmp_path / "m")
    assert isinstance(loaded, AudioSynthesizer)
    assert np.array_equal(np.stack(loaded.sample(6, seed=3).waves), np.stack(first.waves))


def test_unlabelled_clips_give_an_unconditional_model_and_a_conditional_request_is_refused(spoken_digits):
    audio = read_audio(spoken_digits)
    audio.labels, audio.classes = None, []
    model = AudioSynthesizer(**TINY).fit(audio)
    assert model.audio_config.conditioning == "none" and model.sample(3, seed=0).labels is None
    with pytest.raises(GanforgeError, match="needs labelled clips"):
        AudioSynthesizer(conditioning="acgan", **TINY).fit(audio)


def test_phase_shuffle_moves_each_clip_by_at_most_its_shift_and_only_in_training():
    shuffle = PhaseShuffle(2)
    x = torch.arange(10.0).repeat(4, 3, 1)
    moved = shuffle(x)
    assert moved.shape == x.shape
    for row in moved:
        offsets = {int(row[0, 5] - 5)}
        assert offsets <= {-2, -1, 0, 1, 2} and torch.equal(row[0], row[1])
    assert torch.equal(shuffle.eval()(x), x)


@pytest.mark.parametrize("representation, loss, conditioning, mode_seeking", [
    ("spectrogram", "wgan-gp", "acgan", 0.0), ("waveform", "nonsaturating", "acgan", 0.0),
    ("waveform", "wgan-gp", "cgan", 0.0), ("spectrogram", "hinge", "cgan", 0.1)])
def test_the_core_losses_and_both_conditionings_train(spoken_digits, representation, loss, conditioning,
                                                      mode_seeking):
    audio = read_audio(spoken_digits)
    model = AudioSynthesizer(representation=representation, loss=loss, conditioning=conditioning,
                             mode_seeking=mode_seeking, **{**TINY, "spectral_norm": loss != "wgan-gp"}).fit(audio)
    history = model.training_["history"]
    assert len(history) == 1 and np.isfinite([history[0]["loss_d"], history[0]["loss_g"]]).all()
    assert (model.sample(4, seed=0, label="3").labels == 3).all()


def saved_without(model: AudioSynthesizer, setting: str, folder):
    """`model` saved and read back as a version from before `setting` existed wrote it."""
    import json

    model.save(folder)
    config_file = next(folder.glob("*.json"))
    config = json.loads(config_file.read_text())
    del config["audio_config"][setting]
    config_file.write_text(json.dumps(config))
    return ganforge.load(folder)


def test_class_batch_norm_is_an_option_and_older_folders_load_without_it(spoken_digits, tmp_path):
    from ganforge.core.layers import ClassBatchNorm

    audio = read_audio(spoken_digits)
    old = AudioSynthesizer(**TINY, class_norm=False).fit(audio)
    loaded = saved_without(old, "class_norm", tmp_path / "old")
    assert not loaded.audio_config.class_norm
    assert np.array_equal(np.stack(loaded.sample(4, seed=2).waves), np.stack(old.sample(4, seed=2).waves))
    normed = AudioSynthesizer(**TINY, class_norm=True).fit(audio)  # a scale and shift per label in every norm
    assert any(isinstance(layer, ClassBatchNorm) for layer in normed.generator_.modules())
    normed.save(tmp_path / "normed")
    assert np.array_equal(np.stack(ganforge.load(tmp_path / "normed").sample(4, seed=2).waves),
                          np.stack(normed.sample(4, seed=2).waves))


def test_a_lower_temperature_draws_clips_nearer_each_class_middle_and_older_folders_sample_at_one(fitted, tmp_path):
    _, model = fitted
    assert model.audio_config.temperature == 0.7

    def spread(temperature):  # per-sample spread across draws for one label
        clips = model.sample(40, seed=4, label="3", temperature=temperature)
        return np.stack(clips.waves).std(axis=0).mean()

    assert spread(0.3) < spread(1.0)
    with pytest.raises(GanforgeError, match="--temperature must be positive"):
        model.sample(2, temperature=-1)
    loaded = saved_without(model, "temperature", tmp_path / "old")
    assert loaded.audio_config.temperature == 1.0
    assert np.array_equal(np.stack(loaded.sample(4, seed=2).waves),
                          np.stack(model.sample(4, seed=2, temperature=1.0).waves))


def test_class_guidance_gives_the_critic_class_logits_only_for_a_conditional_model(spoken_digits):
    audio = read_audio(spoken_digits)
    guided = AudioSynthesizer(class_guidance=0.1, **TINY).fit(audio)
    clips = torch.as_tensor(np.stack(audio.clips(guided.audio_config.clip_samples)[:3]))
    critic = guided._networks(torch.device("cpu"))[1]
    condition = torch.nn.functional.one_hot(torch.tensor([0, 1, 2]), 10).float()
    assert critic(guided._encode(clips), condition).shape == (3, 11)  # the score, then one logit per digit
    assert np.isfinite(np.stack(guided.sample(4, seed=0).waves)).all()
    plain = AudioSynthesizer(**TINY).fit(audio)
    assert plain._networks(torch.device("cpu"))[1](plain._encode(clips), condition).shape == (3, 1)
    audio.labels, audio.classes = None, []
    assert AudioSynthesizer(class_guidance=0.1, **TINY).fit(audio).sample(2, seed=0).labels is None
    with pytest.raises(GanforgeError, match="class_guidance"):
        AudioSynthesizer(class_guidance=-0.1)


def test_precision_follows_the_processor_unless_asked_and_is_stored_resolved(spoken_digits, tmp_path):
    from ganforge.core.device import native_bfloat16

    audio = read_audio(spoken_digits)
    assert AudioSynthesizer().train_config.mixed_precision is None  # the benchmark's choice: by the processor
    model = AudioSynthesizer(**TINY).fit(audio)
    assert model.train_config.mixed_precision is native_bfloat16(torch.device("cpu"))
    exact = AudioSynthesizer(mixed_precision=False, **TINY).fit(audio)
    assert exact.train_config.mixed_precision is False
    model.save(tmp_path / "m")  # weights trained on channels-last maps save and load as any others
    loaded = ganforge.load(tmp_path / "m")
    assert loaded.train_config == model.train_config
    assert np.array_equal(np.stack(loaded.sample(3, seed=0).waves), np.stack(model.sample(3, seed=0).waves))
