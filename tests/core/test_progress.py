"""One progress shape for every kind of data: each fit tells a callback about every epoch as a `Progress`, and
True from the callback ends training there with a usable model."""

import numpy as np

from ganforge import ImageSynthesizer, TabularSynthesizer
from ganforge.core.progress import Progress, both
from ganforge.image.data import ImageSet
from ganforge.text.synthesizer import TextSynthesizer
from tests.conftest import TINY, make_table
from tests.text.test_synthesizer import TEXTS
from tests.text.test_synthesizer import TINY as TEXT_TINY


class Recorder:
    """Keeps what it hears; asks to stop once it has heard `stop_after` epochs."""

    def __init__(self, stop_after: int | None = None):
        self.heard: list[Progress] = []
        self.stop_after = stop_after

    def __call__(self, progress: Progress) -> bool:
        self.heard.append(progress)
        return self.stop_after is not None and len(self.heard) >= self.stop_after


def test_a_table_fit_reports_each_epoch_and_stops_when_told():
    heard = Recorder(stop_after=2)
    model = TabularSynthesizer(**{**TINY, "epochs": 6}).fit(make_table(), progress=heard)
    assert [p.epoch for p in heard.heard] == [1, 2] and {p.phase for p in heard.heard} == {"adversarial"}
    assert {"loss_d", "loss_g"} <= set(heard.heard[0].figures) and heard.heard[0].generator is not None
    assert model.training_["epochs_run"] == 2 and model.training_["stopped_by"] == "callback"
    assert len(model.sample(10, seed=0)) == 10


def test_an_image_fit_reports_each_epoch_with_its_generator_and_stops_when_told():
    rng = np.random.default_rng(0)
    images = ImageSet(rng.integers(0, 256, (40, 1, 8, 8), dtype=np.uint8), rng.integers(0, 2, 40), ["a", "b"])
    heard = Recorder(stop_after=1)
    model = ImageSynthesizer(epochs=5, width=8, noise_dim=8, seed=0).fit(images, progress=heard)
    assert len(heard.heard) == 1 and heard.heard[0].generator is not None
    assert model.training_["epochs_run"] == 1 and model.training_["stopped_by"] == "callback"


def test_a_text_fit_reports_every_phase_in_the_same_shape_and_a_stop_ends_the_phase():
    heard = Recorder()
    TextSynthesizer(**{**TEXT_TINY, "epochs": 1}, level="char").fit(TEXTS, progress=heard)
    phases = [p.phase for p in heard.heard]
    assert phases[0] == "maximum likelihood" and phases[-1] == "gumbel"
    assert all("loss" in p.figures for p in heard.heard if p.phase == "maximum likelihood")
    assert "maximum likelihood epoch 1: loss" in heard.heard[0].line()
    stopped = Recorder(stop_after=1)
    model = TextSynthesizer(**TEXT_TINY, level="char", adversarial="none").fit(TEXTS, progress=stopped)
    assert len(stopped.heard) == 1 and len(model.training_["mle"]) == 1


def test_two_watchers_both_hear_every_epoch_and_either_may_stop():
    first, second = Recorder(), Recorder(stop_after=1)
    joined = both(first, second)
    assert joined(Progress("adversarial", 1)) is True
    assert len(first.heard) == len(second.heard) == 1
    assert both(None, first) is first and both(None, None) is None
