import pytest
import torch
from torch import nn

from ganforge.config import TrainConfig
from ganforge.core.device import seed_everything
from ganforge.core.trainer import TrainingInterrupted, train_gan, update_ema
from ganforge.errors import GanforgeError


class Shifted:
    """Real data N(3, 0.5^2) in 1-D; an unconditional game."""

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size

    def real_batch(self):
        return 3.0 + 0.5 * torch.randn(self.batch_size, 1), None

    def sample_condition(self):
        return None

    def generate(self, generator, condition):
        return generator(torch.randn(self.batch_size, 4)), torch.zeros(())


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, x, condition):
        return self.body(x)


def fit(loss: str, seed: int = 0, epochs: int = 60, **settings):
    seed_everything(seed)
    generator = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))
    settings = {"generator_lr": 2e-3, "discriminator_lr": 2e-3, **settings}
    config = TrainConfig(epochs=epochs, loss=loss, seed=seed, **settings)
    return train_gan(generator, Critic(), Shifted(), config, steps_per_epoch=10)


@pytest.mark.parametrize("loss, settings", [("wgan-gp", {"n_critic": 5, "gradient_penalty": 1.0}), ("hinge", {}),
                                            ("nonsaturating", {}), ("minimax", {}), ("lsgan", {})])
def test_every_loss_moves_the_generator_towards_the_data(loss, settings):
    result = fit(loss, ema_decay=0.0, **settings)
    with torch.no_grad():
        samples = result.generator(torch.randn(2000, 4))
    assert abs(samples.mean().item() - 3.0) < 1.0  # an untrained generator sits about 3 away
    assert len(result.history) == 60 and result.stopped_by == "epochs"


def test_same_seed_gives_the_same_weights_on_cpu():
    first, second = fit("hinge", epochs=5), fit("hinge", epochs=5)
    for a, b in zip(first.generator.parameters(), second.generator.parameters()):
        assert torch.equal(a, b)


def test_time_budget_stops_training():
    result = fit("hinge", epochs=10_000, max_minutes=0.002)
    assert result.stopped_by == "time" and len(result.history) < 10_000


def test_hopeless_divergence_stops_and_keeps_the_last_good_generator():
    result = fit("wgan-gp", epochs=3, generator_lr=1e30, discriminator_lr=1e30, weight_decay=0.0)
    assert result.stopped_by == "divergence" and result.rollbacks == 3
    assert all(torch.isfinite(p).all() for p in result.generator.parameters())


class Poisoned(Shifted):
    """Returns a NaN loss once, at one step, as a bad batch or an overflow would."""

    def __init__(self, at_call: int):
        super().__init__()
        self.calls, self.at_call = 0, at_call

    def generate(self, generator, condition):
        self.calls += 1
        fake, extra = super().generate(generator, condition)
        return fake, extra + (float("nan") if self.calls == self.at_call else 0.0)


def test_an_injected_nan_is_rolled_back_and_training_recovers(caplog):
    seed_everything(0)
    generator = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))
    config = TrainConfig(epochs=6, loss="hinge", seed=0)
    result = train_gan(generator, Critic(), Poisoned(at_call=50), config, steps_per_epoch=10)
    assert result.rollbacks == 1 and result.stopped_by == "epochs" and len(result.history) == 6
    assert "rolled back to epoch 2 with halved learning rates" in caplog.text
    assert all(torch.isfinite(p).all() for p in result.generator.parameters())


class Interrupting(Shifted):
    """Simulates Ctrl-C in the middle of an epoch."""

    def __init__(self, at_call: int | None):
        super().__init__()
        self.calls, self.at_call = 0, at_call

    def real_batch(self):
        self.calls += 1
        if self.calls == self.at_call:
            raise KeyboardInterrupt
        return super().real_batch()


def run(problem, resume=None, saved=None):
    seed_everything(0)
    generator = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))
    config = TrainConfig(epochs=7, loss="wgan-gp", seed=0)
    return train_gan(generator, Critic(), problem, config, steps_per_epoch=10, resume=resume,
                     save_checkpoint=None if saved is None else saved.append, checkpoint_every=2)


def test_interrupted_and_resumed_run_ends_with_the_same_weights():
    uninterrupted = run(Interrupting(at_call=None))
    saved = []
    with pytest.raises(TrainingInterrupted) as stopped:
        run(Interrupting(at_call=55), saved=saved)  # in epoch 6
    assert stopped.value.state["epoch"] == 5 and [s["epoch"] for s in saved] == [2, 4, 5]
    resumed = run(Interrupting(at_call=None), resume=stopped.value.state)
    assert len(resumed.history) == 7
    for a, b in zip(uninterrupted.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)


def test_ema_moves_towards_the_live_weights():
    average, live = nn.Linear(2, 2), nn.Linear(2, 2)
    before = average.weight.detach().clone()
    update_ema(average, live, decay=0.9)
    assert torch.allclose(average.weight, 0.9 * before + 0.1 * live.weight)


def test_config_names_the_bad_field():
    with pytest.raises(GanforgeError, match="loss"):
        TrainConfig(loss="nope")
    with pytest.raises(GanforgeError, match="epochs"):
        TrainConfig(epochs=0)


class Collapsed(nn.Module):
    """A generator that ignores its noise: every sample is the same."""

    def __init__(self):
        super().__init__()
        self.value = nn.Parameter(torch.zeros(1, 1))

    def forward(self, noise):
        return self.value.expand(noise.shape[0], 1)


def test_a_collapsed_generator_is_reported(caplog):
    seed_everything(0)
    config = TrainConfig(epochs=2, loss="hinge", seed=0)
    result = train_gan(Collapsed(), Critic(), Shifted(), config, steps_per_epoch=5, checkpoint_every=1)
    assert result.history[-1]["diversity"] < 0.01
    assert "may have collapsed" in caplog.text


def test_a_healthy_generator_is_not_reported(caplog):
    seed_everything(0)
    generator = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))
    result = train_gan(generator, Critic(), Shifted(), TrainConfig(epochs=2, loss="hinge"), steps_per_epoch=5,
                       checkpoint_every=1)
    assert result.history[-1]["diversity"] > 0.1 and "collapsed" not in caplog.text


def test_large_batches_scale_the_learning_rates_and_small_ones_do_not():
    from ganforge.core.trainer import _Game

    for batch_size, scale in ((100, 1.0), (500, 1.0), (2000, 2.0)):
        config = TrainConfig(batch_size=batch_size, generator_lr=1e-4, discriminator_lr=3e-4)
        game = _Game(nn.Linear(4, 1), Critic(), config)
        assert game.optimizer_g.param_groups[0]["lr"] == pytest.approx(1e-4 * scale)
        assert game.optimizer_d.param_groups[0]["lr"] == pytest.approx(3e-4 * scale)
        game.scale_learning_rates(0.5, config)  # a rollback halves the scaled rate
        assert game.optimizer_d.param_groups[0]["lr"] == pytest.approx(1.5e-4 * scale)


def test_a_fit_flushes_subnormal_floats_and_puts_the_setting_back():
    import numpy as np

    from ganforge.core.device import flushing_subnormals

    @flushing_subnormals
    def fit():
        return torch.tensor([1e-40]).item()

    assert fit() == 0.0  # flushed while fitting: no op on it runs a hundred times slower
    assert torch.tensor([1e-40]).item() != 0.0  # the process's setting is back (NumPy's too)
    assert np.nextafter(np.float64(0), 1) > 0
    torch.set_flush_denormal(True)  # a caller who flushes keeps flushing
    try:
        fit()
        assert torch.tensor([1e-40]).item() == 0.0
    finally:
        torch.set_flush_denormal(False)


@pytest.mark.parametrize("avx512_bf16, amx, expected", [(True, False, True), (False, True, True),
                                                         (False, False, False)])
def test_mixed_precision_is_the_default_only_where_the_processor_computes_bfloat16(monkeypatch, avx512_bf16, amx,
                                                                                  expected):
    from ganforge.core.device import resolve_precision

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    cpu = torch.device("cpu")
    assert resolve_precision(None, cpu) is expected  # emulated bfloat16 would be slower than float32
    assert resolve_precision(True, cpu) is True and resolve_precision(False, cpu) is False  # asked wins


class ConvGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8 * 4 * 4), nn.Unflatten(1, (8, 4, 4)), nn.ReLU(),
                                  nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Tanh())

    def forward(self, noise, condition=None):
        return self.body(noise)


class ConvCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 4 * 4, 1))

    def forward(self, x, condition):
        return self.body(x)


class Pictures(Shifted):
    def real_batch(self):
        return 0.5 + 0.1 * torch.randn(self.batch_size, 1, 8, 8), None


def test_mixed_precision_plays_on_channels_last_maps_and_hands_back_a_contiguous_generator():
    seed_everything(0)
    config = TrainConfig(epochs=3, loss="hinge", mixed_precision=True, generator_lr=2e-3, discriminator_lr=2e-3)
    critic = ConvCritic()
    result = train_gan(ConvGenerator(), critic, Pictures(), config, steps_per_epoch=5)
    assert critic.body[0].weight.is_contiguous(memory_format=torch.channels_last)  # what bfloat16 runs fastest on
    assert all(p.is_contiguous() for p in result.generator.parameters())  # safetensors saves only these
    assert all(torch.isfinite(torch.tensor([h["loss_d"], h["loss_g"]])).all() for h in result.history)
    with torch.no_grad():
        assert result.generator(torch.randn(5, 4)).dtype == torch.float32  # sampling stays in float32
