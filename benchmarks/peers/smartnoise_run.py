"""MST, AIM or DP-CTGAN (smartnoise-synth) on one table, run inside `.bench-dp`: a subprocess of privacy_tradeoff.py.

    .bench-dp/bin/python benchmarks/peers/smartnoise_run.py METHOD EPSILON SEED IN.parquet OUT.parquet SPEC.json

smartnoise-synth 1.0.8 pins mbi<2, and the package index holds mbi 2.0 only (private-pgm 1.x installs from
GitHub), so the few names that moved in mbi 2.0 are mapped back here before smartnoise is imported. The
mechanisms themselves are smartnoise's, untouched. SPEC.json names the categorical and continuous columns and
the share of epsilon the preprocessor may spend on bounds; with "public_bounds" the true ranges are handed over
instead (a head start for the peer, recorded as such): binned for the marginal methods, scaled to [-1, 1] for
DP-CTGAN, whose categories are one-hot. DP-CTGAN (DP-SGD through opacus 0.14, which smartnoise 1.0.8 pins) runs
with smartnoise's defaults, but for a batch of half the rows on tables under 1,000 rows.
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
DPCTGAN_BATCH = 500  # DP-CTGAN's default batch; smaller tables get half their rows (a sampling rate above 1 fails)


def map_mbi_2_names() -> None:
    import mbi.dataset
    import mbi.domain
    import mbi.estimation

    original_post_init = mbi.dataset.Dataset.__post_init__

    def post_init(self):  # mbi 1 took a data frame or a 2-D array; mbi 2 a dict of columns
        if not hasattr(self.data, "items") or isinstance(self.data, pd.DataFrame):
            frame = pd.DataFrame(np.asarray(self.data), columns=list(self.domain.attributes))
            object.__setattr__(self, "data", {c: frame[c].to_numpy().astype(int) for c in frame})
        original_post_init(self)

    mbi.dataset.Dataset.__post_init__ = post_init
    mbi.dataset.Dataset.df = property(
        lambda self: pd.DataFrame({k: np.asarray(v) for k, v in self.data.items()})[list(self.domain.attributes)])
    mbi.domain.Domain.attrs = property(lambda self: self.attributes)

    def mirror_descent(domain, measurements, known_total=None, iters=1000, **_):
        return mbi.estimation.MirrorDescent().estimate(domain, list(measurements), known_total=known_total,
                                                       iters=iters)

    mbi.estimation.mirror_descent = mirror_descent
    import snsynth.aim.aim as aim

    def filter_candidates(candidates, model, size_limit):  # mbi 2 keeps cliques in a tuple
        free = aim.downward_closure(model.cliques)
        return {cl: score for cl, score in candidates.items()
                if aim.hypothetical_model_size(model.domain, list(model.cliques) + [cl]) <= size_limit or cl in free}

    aim.filter_candidates = filter_candidates


def main() -> None:
    method, epsilon, seed, source, target, spec_path = sys.argv[1:7]
    spec = json.loads(open(spec_path).read())
    np.random.seed(int(seed))
    map_mbi_2_names()
    from snsynth import Synthesizer
    from snsynth.transform import (
        BinTransformer,
        ChainTransformer,
        LabelTransformer,
        MinMaxTransformer,
        OneHotEncoder,
        TableTransformer,
    )

    frame = pd.read_parquet(source)
    categorical, continuous = spec["categorical"], spec["continuous"]
    for column in categorical:
        frame[column] = frame[column].astype(str)
    options = {}
    if method == "dpctgan" and len(frame) < 2 * DPCTGAN_BATCH:  # its batch of 500 would sample more than every row
        options["batch_size"] = max(2, len(frame) // 4 * 2)  # half the rows, even
    synthesizer = Synthesizer.create(method, epsilon=float(epsilon), verbose=False, **options)
    if spec.get("public_bounds") and method == "dpctgan":
        transformers = [ChainTransformer([LabelTransformer(nullable=True), OneHotEncoder()]) if c in categorical else
                        MinMaxTransformer(lower=float(frame[c].min()), upper=float(frame[c].max()), negative=True,
                                          nullable=True) for c in frame.columns]
        synthesizer.fit(frame, transformer=TableTransformer(transformers), preprocessor_eps=0.0)
    elif spec.get("public_bounds"):
        transformers = [LabelTransformer(nullable=True) if c in categorical else
                        BinTransformer(bins=20, lower=float(frame[c].min()), upper=float(frame[c].max()),
                                       nullable=True) for c in frame.columns]
        synthesizer.fit(frame, transformer=TableTransformer(transformers), preprocessor_eps=0.0)
    else:
        synthesizer.fit(frame, categorical_columns=categorical, continuous_columns=continuous,
                        preprocessor_eps=float(epsilon) * spec["preprocessor_share"], nullable=True)
    synthetic = synthesizer.sample(len(frame))
    for column in categorical:
        synthetic[column] = synthetic[column].astype(object).replace({"nan": np.nan, "None": np.nan})
    synthetic.to_parquet(target)


if __name__ == "__main__":
    main()
