"""Quality, diversity and memorisation of generated texts, on token lists (pure functions).

BLEU here is the text-GAN literature's (Yu et al. 2017, Zhu et al. 2018 "Texygen"): each generated text is
scored against the whole set of reference texts as its references (sentence BLEU, uniform weights over 1..n,
zero counts smoothed to 0.1 as NLTK's method1), and the scores are averaged. With thousands of references a
per-sentence library call recounts every reference for every hypothesis; counting each reference set once
(the maximum count of every n-gram over the references, and the two largest for self-BLEU) gives the same
numbers in linear time.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter

Tokens = list[str]
SMOOTHING = 0.1


def ngrams(tokens: Tokens, n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


class _References:
    """Per n-gram order: the largest and second-largest count of each n-gram in any one reference, and which
    reference holds the largest; plus the sorted reference lengths for the brevity penalty."""

    def __init__(self, references: list[Tokens], max_n: int):
        self.top: list[dict[tuple, tuple[int, int, int]]] = []
        for n in range(1, max_n + 1):
            table: dict[tuple, tuple[int, int, int]] = {}
            for index, reference in enumerate(references):
                for gram, count in ngrams(reference, n).items():
                    best, holder, second = table.get(gram, (0, -1, 0))
                    if count > best:
                        table[gram] = (count, index, best)
                    elif count > second:
                        table[gram] = (best, holder, count)
            self.top.append(table)
        self.lengths = sorted((len(r), i) for i, r in enumerate(references))

    def clip(self, gram: tuple, n: int, exclude: int) -> int:
        best, holder, second = self.top[n - 1].get(gram, (0, -1, 0))
        return second if holder == exclude else best

    def closest_length(self, length: int, exclude: int) -> int:
        """The reference length closest to `length` (the shorter on ties), skipping reference `exclude`."""
        position = bisect.bisect_left(self.lengths, (length, -1))
        candidates = [self.lengths[i] for i in range(max(0, position - 2), min(len(self.lengths), position + 2))
                      if self.lengths[i][1] != exclude]
        return min(candidates, key=lambda item: (abs(item[0] - length), item[0]))[0] if candidates else length


def _sentence_bleu(hypothesis: Tokens, references: _References, max_n: int, exclude: int = -1) -> float:
    if not hypothesis:
        return 0.0
    log_precision = 0.0
    for n in range(1, max_n + 1):
        counts = ngrams(hypothesis, n)
        total = sum(counts.values())
        matched = sum(min(count, references.clip(gram, n, exclude)) for gram, count in counts.items())
        if n == 1 and matched == 0:
            return 0.0  # no word in common with any reference
        log_precision += math.log((matched or SMOOTHING) / max(total, 1)) / max_n  # shorter than n: 0.1
    reference_length = references.closest_length(len(hypothesis), exclude)
    brevity = 1.0 if len(hypothesis) > reference_length else math.exp(1 - reference_length / len(hypothesis))
    return brevity * math.exp(log_precision)


def bleu(generated: list[Tokens], references: list[Tokens], max_n: int = 4) -> float:
    """Mean sentence BLEU-`max_n` of each generated text against all `references`, in [0, 1]; higher means
    closer to real text (quality)."""
    if not generated or not references:
        raise ValueError("BLEU needs generated and reference texts")
    table = _References(references, max_n)
    return sum(_sentence_bleu(h, table, max_n) for h in generated) / len(generated)


def self_bleu(generated: list[Tokens], max_n: int = 4) -> float:
    """Mean BLEU-`max_n` of each generated text against all the others, in [0, 1]; lower means more diverse
    (Zhu et al. 2018). A set of one text has no others: 0."""
    if len(generated) < 2:
        return 0.0
    table = _References(generated, max_n)
    return sum(_sentence_bleu(h, table, max_n, exclude=i) for i, h in enumerate(generated)) / len(generated)


def distinct_n(generated: list[Tokens], n: int) -> float:
    """Distinct n-grams over all n-grams in the generated texts (Li et al. 2016), in [0, 1]; higher is more
    diverse."""
    grams = Counter()
    for tokens in generated:
        grams.update(ngrams(tokens, n))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def memorisation(generated: list[str], training: list[str]) -> float:
    """Share of generated texts that appear verbatim in the training texts, in [0, 1]; lower is better (a
    model that copies its training set leaks it)."""
    if not generated:
        raise ValueError("no generated texts")
    seen = set(training)
    return sum(text in seen for text in generated) / len(generated)
