"""Typed, frozen settings: one dataclass per concern, validated when built, stored as JSON in the model folder."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .errors import GanforgeError

LOSS_NAMES = ("wgan-gp", "hinge", "nonsaturating", "minimax", "lsgan")
NUMERIC_ENCODINGS = ("quantile", "modes")
COLUMN_KINDS = ("continuous", "integer", "categorical", "boolean", "datetime", "constant", "id", "text")

T = TypeVar("T")
REFERENCE_BATCH = 500
DEFAULT_LEARNING_RATE = 2e-4
DEFAULT_EMA_DECAY = 0.995


def _require(condition: bool, field_name: str, message: str) -> None:
    if not condition:
        raise GanforgeError(f"invalid setting {field_name}: {message}")


@dataclass(frozen=True)
class TrainConfig:
    """How the adversarial game is played; shared by every modality."""

    epochs: int | None = None  # None: the modality's own choice (tables: steps until the fidelity score stalls)
    max_minutes: float | None = None
    batch_size: int | None = None  # None: the modality's own choice
    loss: str = "wgan-gp"
    n_critic: int = 1
    generator_lr: float | None = None  # None: the modality's own choice (DEFAULT_LEARNING_RATE where it has none)
    discriminator_lr: float | None = None
    beta1: float = 0.5
    beta2: float = 0.9
    weight_decay: float = 1e-6
    gradient_penalty: float = 10.0
    r1_penalty: float = 0.0
    spectral_norm: bool = False
    ema_decay: float | None = DEFAULT_EMA_DECAY  # None: the modality's own choice (images: by size)
    seed: int | None = 0
    device: str = "auto"
    mixed_precision: bool | None = False  # bfloat16 autocast for the networks' passes; penalties stay float32.
    # None: where the device computes bfloat16 natively (core.device.native_bfloat16); sounds and images start there
    compile: bool = False  # torch.compile the generator (the discriminator's penalty needs double backward)

    @property
    def learning_rates(self) -> tuple[float, float]:
        """(generator, discriminator) learning rates before the batch-size scale."""
        return (self.generator_lr or DEFAULT_LEARNING_RATE, self.discriminator_lr or DEFAULT_LEARNING_RATE)

    @property
    def ema(self) -> float:
        """The generator average's decay, whoever left it unset."""
        return DEFAULT_EMA_DECAY if self.ema_decay is None else self.ema_decay

    @property
    def learning_rate_scale(self) -> float:
        """Batches above REFERENCE_BATCH raise both learning rates by the square root of the ratio (the usual
        rule for Adam), so a GPU-sized batch learns about as fast per epoch as the reference one."""
        return max(1.0, ((self.batch_size or REFERENCE_BATCH) / REFERENCE_BATCH) ** 0.5)

    def __post_init__(self) -> None:
        _require(self.epochs is None or self.epochs >= 1, "epochs", f"must be at least 1, got {self.epochs}")
        _require(self.max_minutes is None or self.max_minutes > 0, "max_minutes",
                 f"must be positive, got {self.max_minutes}")
        _require(self.batch_size is None or self.batch_size >= 2, "batch_size",
                 f"must be at least 2, got {self.batch_size}")
        _require(self.loss in LOSS_NAMES, "loss", f"{self.loss!r} is not one of {', '.join(LOSS_NAMES)}")
        _require(self.n_critic >= 1, "n_critic", f"must be at least 1, got {self.n_critic}")
        for name in ("generator_lr", "discriminator_lr"):
            rate = getattr(self, name)
            _require(rate is None or rate > 0, name, f"must be positive, got {rate}")
        for name in ("beta1", "beta2", "ema_decay"):
            value = getattr(self, name)
            if value is not None or name != "ema_decay":  # None: the modality's own decay
                _require(0 <= value < 1, name, f"must be in [0, 1), got {value}")
        for name in ("weight_decay", "gradient_penalty", "r1_penalty"):
            _require(getattr(self, name) >= 0, name, f"must not be negative, got {getattr(self, name)}")
        _require(self.device == "auto" or self.device.split(":")[0] in ("cpu", "cuda", "mps"), "device",
                 f"{self.device!r} is not auto, cpu, cuda[:N] or mps")


@dataclass(frozen=True)
class TabularConfig:
    """How a table is encoded and which networks learn it."""

    column_kinds: dict[str, str] = field(default_factory=dict)
    numeric_encoding: str = "quantile"  # normal scores through each column's quantiles, or "modes" (CTGAN's)
    derive_columns: bool = True  # numbers a rule gives from other numbers in every row are computed, not generated
    seasonal_dates: bool = True  # dates generated with their day of the year (spanning two years or more), of the
    # week (where one is rare: working days) and time of day (where they hold times) beside them
    calibrate_marginals: bool = True  # sampled rows ranked onto the quantiles, categories at their training counts
    integer_categories: int = 0  # whole-number columns with at most this many values are one-hot, not numbers
    steps: int | None = None  # generator steps without epochs (rounded up to hundreds); None: 3,000
    early_stopping: bool = False  # keep the best-scoring generator and stop when the score stalls
    rejection_sampling: bool = True  # fit a row critic after training; sampling drops rows it finds fake
    exclude_unseen_pairs: bool = True  # pairs of category levels no training row holds, where chance would have
    # put many, are never sampled (`tabular/exclusions.py`)
    max_modes: int = 10
    max_categories: int = 200
    mixture_sample_size: int = 20_000
    embedding_dim: int = 128
    generator_dims: tuple[int, ...] = (256, 256)
    discriminator_dims: tuple[int, ...] | None = None  # None: (256, 256), or (128, 128) under DP (see below)
    pack: int = 10
    focus_columns: tuple[str, ...] = ()  # condition training on these categorical columns only
    text_epochs: int | None = None  # maximum-likelihood epochs of each text column's character model; None: 30,
    # or as many as 600 steps take on few values (it stops once its held-out loss stalls)
    text_hidden_dim: int = 128

    def __post_init__(self) -> None:
        for column, kind in self.column_kinds.items():
            _require(kind in COLUMN_KINDS, "column_kinds",
                     f"column {column!r}: kind {kind!r} is not one of {', '.join(COLUMN_KINDS)}")
        _require(self.numeric_encoding in NUMERIC_ENCODINGS, "numeric_encoding",
                 f"{self.numeric_encoding!r} is not one of {', '.join(NUMERIC_ENCODINGS)}")
        _require(self.steps is None or self.steps >= 1, "steps", f"must be at least 1, got {self.steps}")
        _require(self.max_modes >= 1, "max_modes", f"must be at least 1, got {self.max_modes}")
        _require(self.max_categories >= 2, "max_categories", f"must be at least 2, got {self.max_categories}")
        _require(self.mixture_sample_size >= 100, "mixture_sample_size", "must be at least 100")
        _require(self.embedding_dim >= 1, "embedding_dim", "must be at least 1")
        _require(all(d >= 1 for d in self.generator_dims), "generator_dims", "sizes must be positive")
        _require(all(d >= 1 for d in self.discriminator_dims or ()), "discriminator_dims", "sizes must be positive")
        _require(self.pack >= 1, "pack", f"must be at least 1, got {self.pack}")
        _require(self.text_epochs is None or self.text_epochs >= 1, "text_epochs",
                 f"must be at least 1, got {self.text_epochs}")
        _require(self.text_hidden_dim >= 1, "text_hidden_dim", "must be at least 1")


ARCHITECTURES = ("dcgan", "resnet")
CONDITIONING = ("auto", "none", "cgan", "acgan")
IMAGE_SIZES = (8, 16, 32, 64)
IMAGE_RESIZES = ("pad", "interpolate")


LABEL_FILTER_DRAWS = 4  # candidates per wanted sample under the label filter (core.label_filter); the last resort
# is the candidate the critic gives the label most


def critic_names_classes(conditioning: str, class_guidance: float | None) -> bool:
    """Whether a conditional critic returns class logits after its adversarial score (core.trainer.class_loss):
    AC-GAN's, or a projection critic under class guidance."""
    return conditioning == "acgan" or (conditioning == "cgan" and (class_guidance or 0.0) > 0)


@dataclass(frozen=True)
class ImageConfig:
    """What an image model looks like. `conditioning` "auto" is cgan when the images are labelled;
    `image_size` None is the images' own size rounded up to a power of two (28 -> 32)."""

    architecture: str = "dcgan"
    conditioning: str = "auto"
    image_size: int | None = None
    noise_dim: int = 100
    width: int | None = None  # the first discriminator layer's channels (DCGAN's generator mirrors it, ResNets
    # use 2x); None: by image size (image.synthesizer.SIZE_RECIPES)
    diffaugment: bool = False
    resize: str = "pad"  # images smaller than image_size: padded by their edge pixels, cropped back when sampling
    # ("interpolate": stretched and shrunk back, which blurs; see image.data.to_size)
    class_norm: bool = False  # DCGAN generator: batch norms scaled and shifted per label (on the Fashion-MNIST
    # tuning images at three minutes: FID 18.9 -> 20.7, label accuracy 0.80 -> 0.78: off, as for audio)
    collapse_guard: bool = True  # a fit that ends collapsed gets its last healthy EMA generator back
    mode_seeking: float | None = None  # weight of the mode-seeking term (Mao et al. 2019): keeps a label's
    # pictures apart; None: by image size (image.synthesizer.SIZE_RECIPES)
    class_guidance: float | None = None  # cgan: the critic also learns to name the real images' classes and the
    # generator pays this weight times its misnaming (core.trainer.class_loss); None: by image size (SIZE_RECIPES)
    temperature: float | None = None  # standard deviation of the noise when sampling (the training noise has 1), as
    # for audio: below 1, images nearer the middle of each class. None: 1.1 under the label filter, else 1 (see
    # image.synthesizer.FILTERED_TEMPERATURE)
    label_filter: bool = True  # conditional sampling keeps, of up to 4 draws per image, the first that the critic's
    # classifier names as the label asked for (core.label_filter); only where the critic names classes (class
    # guidance, from 32 px, or AC-GAN)

    def __post_init__(self) -> None:
        _require(self.architecture in ARCHITECTURES, "architecture",
                 f"{self.architecture!r} is not one of {', '.join(ARCHITECTURES)}")
        _require(self.conditioning in CONDITIONING, "conditioning",
                 f"{self.conditioning!r} is not one of {', '.join(CONDITIONING)}")
        _require(self.resize in IMAGE_RESIZES, "resize", f"{self.resize!r} is not one of {', '.join(IMAGE_RESIZES)}")
        _require(self.image_size is None or self.image_size in IMAGE_SIZES, "image_size",
                 f"must be one of {', '.join(map(str, IMAGE_SIZES))}, got {self.image_size}")
        _require(self.noise_dim >= 1, "noise_dim", "must be at least 1")
        _require(self.width is None or self.width >= 4, "width", f"must be at least 4, got {self.width}")
        _require(self.mode_seeking is None or self.mode_seeking >= 0, "mode_seeking",
                 f"must not be negative, got {self.mode_seeking}")
        _require(self.class_guidance is None or self.class_guidance >= 0, "class_guidance",
                 f"must not be negative, got {self.class_guidance}")
        _require(self.temperature is None or self.temperature > 0, "temperature",
                 f"must be positive, got {self.temperature}")


# Radford et al.'s DCGAN settings; a TrainConfig for images starts from these rather than the tabular ones
# Chosen on benchmarks/image_quality.py's tuning half (8 px and 16 px digits): hinge loss with spectral norm kept
# every class varied where the non-saturating loss without it collapsed the 16 px digits to one picture per class.
# The learning rates (None here) and the width go with the image size: image.synthesizer.SIZE_RECIPES.
IMAGE_TRAIN_DEFAULTS = dict(epochs=30, batch_size=64, loss="hinge", spectral_norm=True, generator_lr=None,
                            discriminator_lr=None, beta1=0.5, beta2=0.999, weight_decay=0.0, ema_decay=None,
                            mixed_precision=None)  # bfloat16 where the processor computes it


AUDIO_REPRESENTATIONS = ("spectrogram", "waveform")


@dataclass(frozen=True)
class AudioConfig:
    """A sound model. `representation`: the GAN draws log-magnitude spectrograms (turned into sound by
    Griffin-Lim) or waveforms (WaveGAN). `sample_rate` None is the clips' most common rate; `clip_samples`
    None is chosen from the clips' lengths (audio.data.clip_length); `conditioning` "auto" is cgan when the
    clips are labelled."""

    representation: str = "spectrogram"
    conditioning: str = "auto"
    sample_rate: int | None = None
    clip_samples: int | None = None
    noise_dim: int = 100
    width: int | None = None  # channels of the first critic layer; None: 16 for spectrograms, 8 for waveforms
    phase_shuffle: int = 2  # waveform critic: random shifts of up to this many samples
    griffin_lim_iterations: int = 32
    class_norm: bool = False  # spectrogram generator: batch norms scaled and shifted per label. Off: at ten minutes
    # it lifted recall on both halves (0.56 -> 0.67 tuning, 0.55 -> 0.63 held-out) but label accuracy rose only on
    # the tuning speakers (0.63 -> 0.68, inside one run's noise) and fell on the held-out ones (0.65 -> 0.61, FAD
    # 2.57 -> 5.55)
    mode_seeking: float = 0.4  # weight of the mode-seeking term (Mao et al. 2019), as for images; on the audio
    # benchmark's tuning half at 10 minutes, weights 0 / 0.1 / 0.2 / 0.4 gave FAD 6.46 / 4.94 / 4.27 / 3.17 and
    # recall 0.29 / 0.43 / 0.47 / 0.56 for label accuracy 0.67 / 0.66 / 0.66 / 0.63 (at 3 minutes 0.1 had cost
    # label accuracy more: 0.50 -> 0.34)
    class_guidance: float = 0.0  # cgan: the critic also names the real clips' classes and the generator pays this
    # weight times its misnaming (core.trainer.class_loss, as for images from 32 px). Off: 0.05 on the audio
    # benchmark's tuning half (ten minutes, seed 0, 55 epochs each) gave FAD 7.82 against 5.16, recall 0.35 against
    # 0.42 and label accuracy 0.682 against 0.758
    temperature: float = 0.7  # standard deviation of the noise when sampling (the training noise has 1): below 1,
    # clips nearer the middle of each class (the truncation trick of BigGAN, Brock et al. 2019, by scaling). On the
    # audio benchmark's tuning half (one ten-minute generator, 165 epochs), 1 / 0.8 / 0.7 / 0.6 / 0.5 gave FAD
    # 2.98 / 2.60 / 2.52 / 2.56 / 2.68, label accuracy 0.76 / 0.80 / 0.84 / 0.88 / 0.91 and recall 0.75 / 0.68 /
    # 0.65 / 0.61 / 0.56: 0.7 is nearest the real clips. Models saved before it existed sample at 1

    def __post_init__(self) -> None:
        _require(self.mode_seeking >= 0, "mode_seeking", f"must not be negative, got {self.mode_seeking}")
        _require(self.temperature > 0, "temperature", f"must be positive, got {self.temperature}")
        _require(self.class_guidance >= 0, "class_guidance", f"must not be negative, got {self.class_guidance}")
        _require(self.representation in AUDIO_REPRESENTATIONS, "representation",
                 f"{self.representation!r} is not one of {', '.join(AUDIO_REPRESENTATIONS)}")
        _require(self.conditioning in CONDITIONING, "conditioning",
                 f"{self.conditioning!r} is not one of {', '.join(CONDITIONING)}")
        _require(self.sample_rate is None or 1000 <= self.sample_rate <= 96_000, "sample_rate",
                 f"must be between 1,000 and 96,000 Hz, got {self.sample_rate}")
        _require(self.clip_samples is None or (self.clip_samples >= 1024 and self.clip_samples % 1024 == 0),
                 "clip_samples", f"must be a positive multiple of 1024, got {self.clip_samples}")
        _require(self.noise_dim >= 1, "noise_dim", "must be at least 1")
        _require(self.width is None or self.width >= 4, "width", f"must be at least 4, got {self.width}")
        _require(self.phase_shuffle >= 0, "phase_shuffle", "must not be negative")
        _require(self.griffin_lim_iterations >= 0, "griffin_lim_iterations", "must not be negative")


# as for images (hinge, spectral norm, Adam 0.5/0.999, EMA), with batch 32: on benchmarks/audio_quality.py's tuning
# half at three CPU minutes, batch 32 reached FAD 13.3 and label accuracy 0.50 where batch 64 had 21.1 and 0.44
# (twice the steps in the same time), batch 16 17.3 and 0.48; TTUR (D 4e-4, G 1e-4) 27.5 and 0.13, rates 5e-4 19.7, 0.39
AUDIO_TRAIN_DEFAULTS = dict(epochs=40, batch_size=32, loss="hinge", spectral_norm=True, generator_lr=2e-4,
                            discriminator_lr=2e-4, beta1=0.5, beta2=0.999, weight_decay=0.0, ema_decay=0.999,
                            mixed_precision=None)  # bfloat16 where the processor computes it: 1.5x the epochs


TEXT_LEVELS = ("auto", "char", "word")
ADVERSARIAL = ("gumbel", "policy-gradient", "none")


@dataclass(frozen=True)
class TextConfig:
    """A text model: token level, lengths, network sizes, and the two phases. `mle_epochs` of maximum
    likelihood come first; then `TrainConfig.epochs` of adversarial training (none with adversarial="none"):
    Gumbel-softmax (`gumbel_tau`, straight-through when `gumbel_hard`) or policy gradient (`rollouts` per
    prefix at `reward_points` prefix lengths). `mle_weight` keeps a maximum-likelihood term in the generator's
    adversarial loss, which keeps it from forgetting the language. `max_length` None: the longest training
    text (in tokens) plus its end, at most 128. `mle_epochs` None: within a time budget, with texts held out,
    as many as the held-out loss keeps falling (340 BOFH excuses and 4,000 first names had reached 20 epochs,
    loss still falling, in 11-16 s of a 96 s share); otherwise 20."""

    level: str = "auto"  # chosen from the texts by `fit` (word for sentences, char for names and codes)
    max_length: int | None = None
    max_words: int = 10_000
    embedding_dim: int = 64
    hidden_dim: int = 256
    tied_output: bool = False  # models saved before the output layer was untied load with True
    softmax_clusters: tuple[int, ...] | None = None  # adaptive-softmax cut-offs; None: chosen by `fit` (word level
    # over a large vocabulary: text.synthesizer.ADAPTIVE_CLUSTERS), () for one output layer over every token
    mle_epochs: int | None = None  # None: 20, or until the held-out loss stops falling within a time budget
    adversarial: str = "gumbel"
    gumbel_tau: float = 1.0
    gumbel_hard: bool = True
    rollouts: int = 4
    reward_points: int = 8
    mle_weight: float = 1.0
    keep: str = "better"  # the adversarial generator is kept only if it beats maximum likelihood; or "adversarial"
    temperature: float | None = None  # the sampling temperature `sample` uses unless told; None: chosen by `fit` on
    # the held-out slice (text.synthesizer.TEMPERATURES), 1 where no slice is held out

    def __post_init__(self) -> None:
        _require(self.keep in ("better", "adversarial"), "keep", f"{self.keep!r} is not better or adversarial")
        _require(self.temperature is None or self.temperature > 0, "temperature",
                 f"must be positive, got {self.temperature}")
        _require(self.level in TEXT_LEVELS, "level", f"{self.level!r} is not one of {', '.join(TEXT_LEVELS)}")
        _require(self.adversarial in ADVERSARIAL, "adversarial",
                 f"{self.adversarial!r} is not one of {', '.join(ADVERSARIAL)}")
        _require(self.max_length is None or self.max_length >= 2, "max_length", "must be at least 2")
        _require(self.mle_epochs is None or self.mle_epochs >= 0, "mle_epochs", "must not be negative")
        _require(self.gumbel_tau > 0, "gumbel_tau", "must be positive")
        _require(self.mle_weight >= 0, "mle_weight", "must not be negative")
        for name in ("rollouts", "reward_points"):
            _require(getattr(self, name) >= 1, name, "must be at least 1")
        for name in ("max_words", "embedding_dim", "hidden_dim"):
            _require(getattr(self, name) >= 1, name, "must be at least 1")
        clusters = self.softmax_clusters or ()
        _require(all(c >= 1 for c in clusters) and list(clusters) == sorted(set(clusters)), "softmax_clusters",
                 f"must be increasing positive cut-offs, got {list(clusters)}")
        _require(not (clusters and self.tied_output), "softmax_clusters", "an adaptive softmax has no tied output")


def saved_text_config(config: dict) -> dict:
    """A model folder's text settings, with what older folders leave out: their output layer was tied (one layer
    over every token), and they sampled at temperature 1 unless told."""
    return {"tied_output": True, "temperature": 1.0, "softmax_clusters": (), **config.get("text_config", {})}


def saved_image_config(config: dict) -> dict:
    """A model folder's image settings, with what older folders leave out: they stretched smaller images and
    sampled at temperature 1 and kept no critic to check labels with."""
    return {"resize": "interpolate", "temperature": 1.0, "label_filter": False, **config.get("image_config", {})}


def saved_audio_config(config: dict) -> dict:
    """A model folder's audio settings, with what older folders leave out: they sampled at temperature 1."""
    return {"temperature": 1.0, **config.get("audio_config", {})}


TEXT_TRAIN_DEFAULTS = dict(epochs=10, batch_size=64, loss="nonsaturating", generator_lr=1e-4,
                           discriminator_lr=1e-4, beta1=0.5, beta2=0.999, weight_decay=0.0, ema_decay=0.0)


def split_settings(settings: dict[str, Any], *classes: type) -> tuple[dict[str, Any], ...]:
    """Route keyword settings to the config classes that have a field of that name (one dict per class);
    a name none of them has is an error, not silently ignored."""
    names = [{f.name for f in fields(cls)} for cls in classes]
    unknown = sorted(set(settings) - set().union(*names))
    if unknown:
        raise GanforgeError(f"unknown setting(s): {', '.join(unknown)}")
    return tuple({k: v for k, v in settings.items() if k in group} for group in names)


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a config from JSON, naming unknown keys rather than ignoring them."""
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise GanforgeError(f"unknown {cls.__name__} settings: {', '.join(unknown)}")
    values = {}
    for name, value in data.items():
        if isinstance(value, list) and known[name].type.startswith("tuple"):  # type: ignore[union-attr]
            value = tuple(value)
        values[name] = value
    return cls(**values)


@dataclass(frozen=True)
class PrivacyConfig:
    """Differential privacy for a fit: (dp_epsilon, dp_delta) covers everything read from the real rows.

    `dp_statistics_share` of epsilon (and half of delta) buys noisy column statistics (category lists and
    counts, numeric ranges and distribution functions) and a noisy row count; `dp_sgd_share` (none by default)
    buys DP-SGD on the discriminator; the rest buys noisy two-way marginals that the generator is fitted to
    first, unless the row count says their noise would hide any dependence, when the statistics take it too
    (`tabular.private.plan_budget`). Marginals and DP-SGD share the other half of delta. Columns with
    `dp_public_bounds` ({column: [low, high]}) or `dp_public_categories` ({column: [levels]}) declared by the
    user skip the matching estimate. No epsilon: no privacy claim, ordinary training.
    """

    dp_epsilon: float | None = None
    dp_delta: float = 1e-5
    max_grad_norm: float = 1.0
    dp_statistics_share: float = 0.7  # chosen on the tuning half of benchmarks/privacy_tradeoff.py (0.4 to 0.8)
    dp_sgd_share: float = 0.0  # what the marginals leave for DP-SGD; the marginals take the rest
    dp_marginal_steps: int = 1500  # fitting the generator to the noisy marginals reads no real row: free (3,000
    # and 5,000 tried on the tuning half at epsilon 1: no better, the longer fit chases the noise)
    dp_public_bounds: dict[str, list[float]] = field(default_factory=dict)
    dp_public_categories: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.dp_epsilon is not None

    @property
    def dp_marginals_share(self) -> float:
        return max(0.0, 1 - self.dp_statistics_share - self.dp_sgd_share)

    def __post_init__(self) -> None:
        _require(self.dp_epsilon is None or self.dp_epsilon > 0, "dp_epsilon",
                 f"must be positive, got {self.dp_epsilon}")
        _require(0 < self.dp_delta < 1, "dp_delta", f"must be in (0, 1), got {self.dp_delta}")
        _require(self.max_grad_norm > 0, "max_grad_norm", f"must be positive, got {self.max_grad_norm}")
        _require(0 < self.dp_statistics_share < 1, "dp_statistics_share",
                 f"must be in (0, 1), got {self.dp_statistics_share}")
        _require(self.dp_marginal_steps >= 1, "dp_marginal_steps", f"must be at least 1, got {self.dp_marginal_steps}")
        _require(0 <= self.dp_sgd_share <= 1 - self.dp_statistics_share + 1e-9, "dp_sgd_share",
                 f"(--dp-sgd-share) must be between 0 and {1 - self.dp_statistics_share:.2g}, as the column "
                 f"statistics take {self.dp_statistics_share:.2g} of epsilon; got {self.dp_sgd_share}")
        for column, bounds in self.dp_public_bounds.items():
            _require(len(bounds) == 2 and float(bounds[0]) < float(bounds[1]), "dp_public_bounds",
                     f"column {column!r}: expected [low, high] with low < high, got {bounds!r}")
        for column, levels in self.dp_public_categories.items():
            _require(len(levels) >= 1, "dp_public_categories", f"column {column!r}: no levels given")

