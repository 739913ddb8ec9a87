"""Scores for generated texts against real ones: quality (BLEU against held-out texts), diversity (self-BLEU,
distinct-n), memorisation of the training texts, and a Frechet distance between sentence embeddings.

The embeddings come from a pretrained sentence-transformers model when one is installed and cached here (or
named by the user), else from an encoder fitted offline on the real texts themselves (`ganforge-lsa`: TF-IDF
over words, word pairs and triples, and character n-grams, each reduced by a truncated SVD, i.e. latent
semantic analysis). The offline one needs no download and no GPU, but its distances are comparable only
between runs that score against the same real texts; every result says which encoder made it.
"""

from __future__ import annotations

import importlib.util
import random

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from ..errors import GanforgeError
from ..metrics.features import frechet_distance
from ..metrics.text import bleu, distinct_n, memorisation, self_bleu
from .tokenize import split_words

ENCODER_NAME = "ganforge-lsa"
PRETRAINED_DEFAULT = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 32  # per view
MAX_SCORED = 1000  # BLEU and self-BLEU hypotheses (the usual size in the text-GAN literature)


class SentenceEncoder:
    """Three views of a text, each TF-IDF reduced by LSA to `dimensions` and scaled to unit length, side by
    side: character 2-4-grams (spelling: words a model invents), words (content) and word 2-3-grams (order;
    without it shuffled words would look real)."""

    name = ENCODER_NAME
    note = ("TF-IDF of char 2-4-grams, words and word 2-3-grams, each reduced by LSA, fitted on the real texts "
            "here (not a pretrained model); Frechet distances compare only against the same real texts")

    def __init__(self, texts: list[str], dimensions: int = EMBEDDING_DIM, seed: int = 0):
        words = dict(analyzer="word", min_df=2, sublinear_tf=True, token_pattern=r"\w+|[^\w\s]")
        self.views = []
        for vectoriser in (TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True),
                           TfidfVectorizer(ngram_range=(1, 1), **words), TfidfVectorizer(ngram_range=(2, 3), **words)):
            try:
                counts = vectoriser.fit_transform(texts)
            except ValueError:  # no n-gram seen twice (a tiny or one-word corpus): the view says nothing
                continue
            if counts.shape[1] > 1:
                svd = TruncatedSVD(min(dimensions, counts.shape[1] - 1), random_state=seed)
                self.views.append((vectoriser, svd.fit(counts)))
        if not self.views:
            raise GanforgeError("the real texts are too few or too short to fit the sentence encoder")

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.hstack([normalize(svd.transform(vectoriser.transform(texts))) for vectoriser, svd in self.views])


class PretrainedEncoder:
    """A sentence-transformers model: embeddings that mean the same whatever the real texts, so Frechet
    distances compare across data sets and with published figures."""

    def __init__(self, name: str, local_only: bool):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(name, local_files_only=local_only)
        self.name = name
        self.note = f"pretrained sentence-transformers model {name}, unit-length embeddings"

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                            show_progress_bar=False), dtype=np.float64)


def make_encoder(choice: str, texts: list[str], seed: int = 0) -> SentenceEncoder | PretrainedEncoder:
    """`auto`: the default pretrained model if sentence-transformers is installed and the model is already in
    the local cache (never a download), else `ganforge-lsa`; any other name is a sentence-transformers model
    name or folder, loaded (and downloaded if need be) because the user asked for it."""
    if choice == ENCODER_NAME:
        return SentenceEncoder(texts, seed=seed)
    installed = importlib.util.find_spec("sentence_transformers") is not None
    if choice == "auto":
        if installed:
            try:
                return PretrainedEncoder(PRETRAINED_DEFAULT, local_only=True)
            except Exception:  # not cached here, or unusable: auto never downloads and never fails
                pass
        return SentenceEncoder(texts, seed=seed)
    if not installed:
        raise GanforgeError(f"--encoder {choice}: needs the sentence-transformers package "
                            f"(pip install sentence-transformers); --encoder {ENCODER_NAME} works offline")
    try:
        return PretrainedEncoder(choice, local_only=False)
    except Exception as error:  # the library raises many kinds for a bad name, folder or network
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GanforgeError(f"--encoder {choice}: cannot load it as a sentence-transformers model ({reason})") from None


Encoder = SentenceEncoder | PretrainedEncoder


def evaluate_texts(real: list[str], synthetic: list[str], training: list[str] | None = None,
                   seed: int = 0, encoder: str | Encoder = "auto") -> dict:
    """Every score, plus the same scores for half of the real texts against the other half (`real_reference`)
    so a reader sees what real text achieves. BLEU and self-BLEU are on word tokens, whatever the model's
    level, over at most `MAX_SCORED` texts drawn with `seed`. `encoder` is a `make_encoder` choice or an
    encoder already made for these texts."""
    for name, texts in (("real", real), ("synthetic", synthetic)):
        if len(texts) < 4:
            raise GanforgeError(f"the {name} texts number {len(texts)}; scores need at least 4")
    rng = random.Random(seed)
    halves = list(real)
    rng.shuffle(halves)
    embed = encoder
    if isinstance(encoder, str):
        embed = make_encoder(encoder, list(real) + list(training or []), seed=seed)
    reference_half, probe_half = halves[: len(halves) // 2], halves[len(halves) // 2:]
    results = _scores(real, synthetic, training, embed, rng)
    results["real_reference"] = _scores(reference_half, probe_half, None, embed, rng)
    results |= {"encoder": embed.name, "encoder_note": embed.note,
                "texts": {"real": len(real), "synthetic": len(synthetic),
                          "training": None if training is None else len(training)}}
    return results


def _scores(real: list[str], synthetic: list[str], training: list[str] | None, encoder: Encoder,
            rng: random.Random) -> dict:
    scored = rng.sample(list(synthetic), min(MAX_SCORED, len(synthetic)))
    hypotheses, references = [split_words(t) for t in scored], [split_words(t) for t in real]
    results: dict = {f"bleu{n}": bleu(hypotheses, references, n) for n in (2, 3, 4)}
    results |= {f"self_bleu{n}": self_bleu(hypotheses, n) for n in (2, 3, 4)}
    tokens = [split_words(t) for t in synthetic]
    results |= {f"distinct{n}": distinct_n(tokens, n) for n in (1, 2, 3)}
    results["memorisation"] = None if training is None else memorisation(list(synthetic), list(training))
    results["frechet_distance"] = frechet_distance(encoder(list(real)), encoder(list(synthetic)))
    results["mean_words"] = float(np.mean([len(t) for t in tokens]))
    return results


def score_against(real: list[str], synthetic: list[str], encoder: Encoder, seed: int = 0) -> dict:
    """The figures `fit` compares two generators by: Frechet distance, BLEU-4 and self-BLEU-4."""
    scores = _scores(real, synthetic, None, encoder, random.Random(seed))
    return {key: round(float(scores[key]), 5) for key in ("frechet_distance", "bleu4", "self_bleu4")}


NEARER_RESAMPLES = 50


def nearer_share(real: list[str], first: list[str], second: list[str], encoder: Encoder, seed: int = 0,
                 resamples: int = NEARER_RESAMPLES) -> float:
    """The share of bootstrap resamples (of the real texts, shared by both, and of each generator's texts) in
    which `first` is nearer the real texts than `second` by Frechet distance: with a few hundred held-out texts
    a gap of a few hundredths is noise, and this says how often the verdict would hold."""
    real_x, first_x, second_x = encoder(list(real)), encoder(list(first)), encoder(list(second))
    rng = np.random.default_rng(seed)

    def draw(x: np.ndarray) -> np.ndarray:
        return x[rng.integers(0, len(x), len(x))]

    wins = 0
    for _ in range(resamples):
        reference = draw(real_x)
        wins += frechet_distance(reference, draw(first_x)) < frechet_distance(reference, draw(second_x))
    return wins / resamples


TEMPERATURES = (0.6, 0.8, 1.0, 1.2)
CURVE_TEXTS = 1000


def temperature_curve(model, real: list[str], training: list[str] | None, temperatures=TEMPERATURES,
                      num: int = CURVE_TEXTS, seed: int = 0, encoder: str = "auto") -> dict:
    """Scores of the fitted model and of its maximum-likelihood baseline (when it had an adversarial phase)
    at each temperature: the quality-diversity curve (BLEU-4 against self-BLEU-4). `scores` holds the full
    evaluation of what `sample` gives (the shipped generator at the model's temperature)."""
    embed = make_encoder(encoder, list(real) + list(training or []), seed=seed)
    networks = [("mle", model.generator_)]  # maximum likelihood alone
    if model.baseline_ is not None:  # the adversarial generator was shipped
        networks = [("gan", model.generator_), ("mle", model.baseline_)]
    elif model.rejected_ is not None:  # maximum likelihood was shipped over it
        networks = [("gan", model.rejected_), ("mle", model.generator_)]
    curve, samples = [], {}
    for name, network in networks:
        for temperature in temperatures:
            texts = model.texts_from(network, num, seed, temperature)
            row = _scores(real, texts, training, embed, random.Random(seed))
            curve.append({"model": name, "temperature": temperature} | row)
            if temperature == 1.0:
                samples[name] = texts[:30]
    scores = evaluate_texts(real, model.sample(num, seed=seed), training, seed=seed, encoder=embed)
    return {"scores": scores, "curve": curve, "samples": samples}
