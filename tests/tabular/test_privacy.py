"""Differential privacy: the accountant, the budget, the settings it refuses, and what the transform hides."""

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from torch import nn

from ganforge import GanforgeError, TabularSynthesizer
from ganforge.cli.tables import budget_lines, privacy_line
from ganforge.config import PrivacyConfig, TabularConfig
from ganforge.core.privacy import PrivateDiscriminator
from ganforge.metrics.privacy import density_membership_auc, privacy
from ganforge.schema import infer_schema
from ganforge.tabular.calibration import shares_to_counts
from ganforge.tabular.marginals import (
    DEPENDENCE_SHOWN,
    SELECT_SHARE,
    Cells,
    cell_names,
    measure,
    select_pairs,
    zcdp_delta,
    zcdp_rho,
)
from ganforge.tabular.private import (
    fit_private_transform,
    flag_word_levels,
    integer_levels,
    noisy_levels,
    plan_budget,
    private_range,
    small_number_levels,
    statistics_bought,
    with_far_tail,
)
from tests.conftest import TINY as PLAIN
from tests.conftest import make_table

TINY = {**PLAIN, "dp_marginal_steps": 60}

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
PUBLIC = dict(dp_public_bounds={"income": [0, 150], "age": [0, 100], "score": [0, 20]},
              dp_public_categories={"colour": ["red", "green", "blue", "violet"], "member": [True, False]})


def test_spent_epsilon_is_opacus_own_and_within_the_budget():
    from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

    private = PrivateDiscriminator(nn.Linear(3, 1), epsilon=2.0, delta=1e-5, max_grad_norm=1.0,
                                   sample_rate=0.05, steps=400)
    while private.can_step():
        private.record_step()
    orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
    rdp = compute_rdp(q=0.05, noise_multiplier=private.noise_multiplier, steps=private.steps, orders=orders)
    expected, _ = get_privacy_spent(orders=orders, rdp=rdp, delta=1e-5)
    assert private.spent() == pytest.approx(expected, rel=1e-6)
    assert 1.9 < private.spent() <= 2.0 + 1e-6 and private.steps >= 400  # calibrated to the plan
    assert not private.can_step()  # one more step would overspend


def test_a_fit_stops_when_its_budget_is_spent_and_reports_it():
    table = make_table(3000)
    model = TabularSynthesizer(**{**TINY, "dp_epsilon": 4.0, "epochs": 2, "dp_statistics_share": 0.5,
                                   "dp_sgd_share": 0.2}, **PUBLIC)
    assert model.train_config.loss == "nonsaturating"  # no loss named: the default that DP can run
    model.fit(table)
    spent = model.privacy_
    assert spent["epsilon"] <= 4.0 + 1e-6 and spent["training"]["steps"] == spent["training"]["planned_steps"]
    assert spent["statistics"]["epsilon"] == pytest.approx(4.0 * 0.5)
    assert spent["marginals"]["epsilon"] == pytest.approx(4.0 * 0.3)
    assert spent["training"]["epsilon_target"] == pytest.approx(4.0 * 0.2)
    deltas = spent["statistics"]["delta"], spent["marginals"]["delta"], spent["training"]["delta"]
    assert sum(deltas) == pytest.approx(1e-5)
    assert model.tabular_config.pack == 1 and model.training_["stopped_by"] == "epochs"
    rows = model.sample(300, seed=0)
    assert list(rows.columns) == list(table.columns) and len(rows) == 300
    assert all(spec.null_rate is None for spec in model.schema_)  # no exact statistic is stored


def test_privacy_metadata_round_trips(tmp_path):
    model = TabularSynthesizer(**{**TINY, "loss": "hinge", "dp_epsilon": 5.0, "epochs": 1}, **PUBLIC)
    model.fit(make_table(3000)).save(tmp_path / "m")
    loaded = TabularSynthesizer.load(tmp_path / "m")
    assert loaded.privacy_ == json.loads(json.dumps(model.privacy_))
    assert loaded.privacy_config == model.privacy_config and loaded.info()["privacy"]["epsilon"] <= 5.0
    pd.testing.assert_frame_equal(loaded.sample(300, seed=1), model.sample(300, seed=1))  # the released counts too


@pytest.mark.parametrize("settings, message", [
    ({"dp_epsilon": 1e-3, "epochs": 50}, "rows are too few"),
    ({"dp_epsilon": 1.0, "loss": "wgan-gp"}, "gradient penalty"),
    ({"dp_epsilon": 1.0, "dp_delta": 0.01}, "below 1/rows"),
    ({"dp_epsilon": 1.0, "spectral_norm": True}, "spectral_norm"),
])
def test_settings_that_cannot_keep_the_promise_are_refused(settings, message):
    model = TabularSynthesizer(**{**TINY, "loss": "nonsaturating", **settings}, **PUBLIC)
    with pytest.raises(GanforgeError, match=message):
        model.fit(make_table(1000))


def test_a_budget_no_noise_can_reach_is_refused():
    with pytest.raises(GanforgeError, match="cannot be reached"):
        PrivateDiscriminator(nn.Linear(3, 1), epsilon=1e-4, delta=1e-5, max_grad_norm=1.0, sample_rate=0.5,
                             steps=10_000)


def test_rare_levels_are_hidden_unless_declared_public():
    table = make_table(3000)
    table.loc[5, "colour"] = "unique-to-one-row"
    schema = infer_schema(table)
    rng = np.random.default_rng(0)
    hidden = fit_private_transform(table, schema, TabularConfig(), PrivacyConfig(dp_epsilon=10), 10, 1e-6, rng)
    assert "unique-to-one-row" not in hidden.columns[0].encoder.levels
    assert {"red", "green"} <= set(hidden.columns[0].encoder.levels)
    declared = PrivacyConfig(dp_epsilon=10, dp_public_categories={"colour": ["red", "unique-to-one-row"]})
    shown = fit_private_transform(table, schema, TabularConfig(), declared, 10, 1e-6, rng)
    assert "unique-to-one-row" in shown.columns[0].encoder.levels


def test_private_range_covers_the_values_coarsely():
    values = np.random.default_rng(0).normal(50, 10, 5000)
    low, high, total, *_ = private_range(values, "x", 1.0, np.random.default_rng(1))
    assert low <= np.percentile(values, 1) and high >= np.percentile(values, 99) and high <= 256
    assert abs(total - 5000) < 100
    with pytest.raises(GanforgeError, match="its range needs about"):
        private_range(values[:3], "x", 0.01, np.random.default_rng(1))


def test_an_empty_bin_that_passes_by_noise_far_out_does_not_stretch_the_range():
    prices = np.random.default_rng(0).lognormal(8, 1, 3000)  # thousands; with seeds 0-399 of the noise, three
    for seed in range(400):  # empty bins far out (2^33 and beyond) clear the bar: they must not set the range
        low, high, *_ = private_range(prices, "price", 0.05, np.random.default_rng(seed))
        assert -1 < low and high < 8 * prices.max(), seed
    # where it clears the bar by STRAY_MARGIN as well, it must lie near the values: ages at a column's epsilon of
    # 1 among seven columns, 6,000 draws: 6 ranges reached 2^34-2^56 or -2^34-2^42 with the near margin everywhere
    ages = np.random.default_rng(1).integers(18, 71, 2700).astype(float)
    ranges = [private_range(ages, "age", 0.048, np.random.default_rng(seed))[:2] for seed in range(6000)]
    assert all(-1 < low and high <= 16 * 128 for low, high in ranges)  # near strays may pass: [256, 512) once
    mixed = np.r_[np.zeros(2000), prices[:1000]]  # a far group of real values is kept: zeros and thousands
    low, high, *_ = private_range(mixed, "amount", 0.2, np.random.default_rng(0))
    assert low <= 0 and high >= np.percentile(prices[:1000], 99)


def test_a_scale_around_zero_keeps_both_sides_where_one_side_passed():
    scale = np.random.default_rng(0).normal(0, 1, 3000).clip(-1.8, 2.05)  # at a column's epsilon of 0.04, each
    both = 0  # side's bins hold counts near the bar for any of the many bins: one side alone passed in 164 of 200
    for seed in range(200):  # draws, both in 36
        low, high, *_ = private_range(scale, "statusquo", 0.021, np.random.default_rng(seed))
        both += low < -1 and high > 1
    assert both > 180  # the mirror of the side found, one test with its own bar, brings back the other (196)


def test_a_range_stops_near_its_values_and_its_histogram_makes_up_no_far_values():
    from ganforge.tabular.private import noisy_histogram

    scores = np.random.default_rng(0).normal(480, 45, 2800).clip(320, 626).round()
    tops, far = [], []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        low, high, total, *_ = private_range(scores, "score", 0.04, rng)
        edges, masses = noisy_histogram(scores, low, high, total, 0.04, rng)
        tops.append(high)
        far.append(masses[edges[:-1] >= 1024].sum())  # no real score reaches 1,024
    # [256, 1024) holds the scores, one bin more each side: pairs with an empty [1024, 2048) stretched every
    # range to 4,096, and stray noisy shape bins put a few percent of the values up to 3,810
    assert np.mean(np.array(tops) > 2048) <= 0.1
    assert np.mean(far) < 0.005
    # nor the sliver that keeps the distribution function increasing: a thousandth of the mass spread evenly over
    # the range drew diamond depths of 243 (real ones 43-79) and stretched every synthetic histogram of them
    assert np.max(far) < 1e-5


def test_a_small_column_s_range_takes_a_bin_toward_zero_and_none_beyond_its_values():
    from ganforge.tabular.private import noisy_histogram

    scores = np.random.default_rng(0).normal(650, 18, 300).clip(605, 700)  # 300 rows in [512, 1024)
    fits, tops = {"now": [], "a bin each side": []}, []
    for seed in range(20):
        low, high, total, *_ = private_range(scores, "score", 0.07, np.random.default_rng(seed))
        assert (low, high) == with_far_tail(low, high, total, 0.05)  # a few shape bins: no far tail
        assert low == 256
        tops.append(high)
        for name, (start, end) in (("now", (low, high)), ("a bin each side", (low, 2 * high))):
            edges, masses = noisy_histogram(scores, start, end, total, 0.05, np.random.default_rng(seed))
            released = np.interp(np.sort(scores), edges, np.concatenate([[0], np.cumsum(masses)]))
            fits[name].append(1 - np.abs(released - np.arange(1, 301) / 300).max())  # KS complement
    # an empty [1024, 2048) still joins now and then, when its noise alone clears two noise scales
    assert np.mean(np.array(tops) == 1024) >= 0.85
    # with a bin each side (256 to 2,048) the four shape bins left the scores in one of them (0.41; 0.26 when
    # even, before ranges spanning 8 times their bottom got log-spaced bins)
    assert np.mean(fits["now"]) > np.mean(fits["a bin each side"]) + 0.08
    negative = -scores  # the same, mirrored: the bin toward zero is the upper one
    low, high, total, *_ = private_range(negative, "loss", 0.07, np.random.default_rng(0))
    assert (low, high) == (-1024, -256)


def test_a_column_of_many_zeros_keeps_them_exact_and_the_values_beside_them():
    from scipy import stats

    from ganforge.tabular.private import noisy_histogram

    rng = np.random.default_rng(0)  # 56% dry days, the rest spread over eight powers of two (0.3 to 55 mm)
    rain = np.where(rng.random(1000) < 0.56, 0.0, rng.lognormal(1.0, 1.2, 1000).clip(0.3, 55).round(1))
    found, shares, fits = [], [], {"zero bin": [], "spread": []}
    for seed in range(20):  # epsilon of a column of six at 1, the shape's part below the range's
        low, high, total, zeros, _ = private_range(rain, "rain", 0.06, np.random.default_rng(seed))
        assert zeros and low <= 0
        found.append(high >= 8)
        for name, apart in (("zero bin", True), ("spread", False)):
            edges, masses = noisy_histogram(rain, low, high, total, 0.045, np.random.default_rng(seed), apart)
            cumulative = np.concatenate([[0], np.cumsum(masses)])
            draws = np.interp(np.random.default_rng(seed).random(4000), cumulative, edges).round(1)
            fits[name].append(1 - stats.ks_2samp(rain, draws).statistic)
            if apart and high >= 8:
                shares.append((draws == 0).mean())
    # beside the zeros' bin, which holds the most rows, the other values were strays: every range was zero alone
    assert np.mean(found) >= 0.6
    assert abs(np.mean(shares) - 0.56) < 0.04  # against the zeros' own noisy count, not what thin bins keep
    # spread over the bin around zero, dry days came out as rain between 0 and 1 mm (0.72 against 0.57; 0.70
    # against 0.52 with even bins, before few bins over a range from zero were spaced by the logarithm)
    assert np.mean(fits["zero bin"]) > np.mean(fits["spread"]) + 0.12


def test_values_too_thin_for_any_bin_beside_many_zeros_are_found_by_coarser_runs():
    rng = np.random.default_rng(0)  # 56% dry days, the rest spread evenly over eight powers of two, 55 rows each
    rain = np.where(rng.random(1000) < 0.56, 0.0, 2.0 ** rng.uniform(-2, 6, 1000)).round(1)
    ranges = [private_range(rain, "rain", 0.056, np.random.default_rng(seed)) for seed in range(40)]
    assert all(found.zeros and found.low <= 0 for found in ranges)
    highs = np.asarray([found.high for found in ranges])
    # zero's bin passed alone and the rain was cut: a column of zeros in 39 draws of 40
    assert np.mean(highs >= 4) > 0.6 and np.mean(highs >= 16) > 0.35
    assert highs.max() <= 128  # runs of empty bins beyond the values do not pass


def test_missing_values_are_counted_in_the_range_s_histogram():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"age": rng.normal(40, 8, 300).round(1), "full": rng.normal(40, 8, 300).round(1)})
    table["age"] = table["age"].mask(rng.random(300) < 0.4)  # 119 of 300 missing
    schema = infer_schema(table, {"age": "continuous", "full": "continuous"})
    called = np.array([[column.encoder.nullable for column in fit_private_transform(
        table, schema, TabularConfig(), PrivacyConfig(dp_epsilon=1), 0.4, 1e-6, np.random.default_rng(seed)).columns]
        for seed in range(40)])
    # a cell of the range's histogram, at half the column's budget: with an eighth of it apart, 119 missing
    # values fell under the bar (24 noise scales of 1 / 0.2) about half the time
    assert called[:, 0].mean() >= 0.95
    assert called[:, 1].mean() <= 0.1  # a column with none: nullable by noise at most 2.5% of the time


def test_a_date_s_range_is_read_from_2000_and_its_statistics_bought_as_dates():
    table = pd.DataFrame({"day": pd.date_range("2012-01-01", periods=1500).strftime("%Y-%m-%d")})
    transform = fit_private_transform(table, infer_schema(table), TabularConfig(), PrivacyConfig(dp_epsilon=1),
                                      1.0, 1e-6, np.random.default_rng(0))
    said = statistics_bought(transform)["day"]
    found = re.fullmatch(r"range (\d{4})-\d\d-\d\d to (\d{4})-\d\d-\d\d, distribution function over \d+ bins, "
                         r"90% from (\d{4})-\d\d-\d\d to (\d{4})-\d\d-\d\d", said)
    assert found, said
    assert 2012 <= int(found[3]) and int(found[4]) <= 2016, said  # the days' middle 90%: 2012-04 to 2015-09
    # as seconds from 1970 the dates of 2012-2016 lie in one power of two, and the range started in 1987
    assert 2000 <= int(found[1]) <= 2012 and 2016 <= int(found[2]) <= 2035, said


def test_a_range_of_zero_alone_gives_exact_zeros():
    table = pd.DataFrame({"zn": np.r_[np.zeros(900), [12.5, 95.0, 80.0]]})
    transform = fit_private_transform(table, infer_schema(table, {"zn": "continuous"}), TabularConfig(),
                                      PrivacyConfig(dp_epsilon=1), 1.0, 1e-6, np.random.default_rng(0))
    encoder = transform.columns[0].encoder
    assert list(encoder.values) == [0.0, 0.0]  # not values of 1e-9 from even bins over zero's magnitude bin
    scores = np.random.default_rng(0).normal(size=(50, 1)).astype(np.float32)
    assert np.all(encoder.decode(scores, np.zeros((50, 0), np.int64), np.random.default_rng(0)) == 0)
    assert statistics_bought(transform)["zn"].startswith("0 alone")


def test_a_large_column_gets_as_many_shape_bins_as_its_noise_allows():
    from ganforge.tabular.private import noisy_histogram

    prices = np.random.default_rng(0).lognormal(7.5, 1.0, 40_000).clip(300, 30_000).round()
    rng = np.random.default_rng(1)
    low, high, total, *_ = private_range(prices, "price", 0.1, rng)
    low, high = with_far_tail(low, high, total, 0.1)
    assert high >= 65536  # bins enough to double the range: the tail is not clipped at 32,768
    edges, masses = noisy_histogram(prices, low, high, total, 0.1, rng)
    assert len(masses) > 512  # 40,000 rows hold many noise scales of 1 / 0.1 rows per bin
    # the distribution function it gives (linear inside each bin, as the quantile encoder reads it) follows the
    # values where most of them lie, under 5,000 in a private power-of-two range reaching 32,768 or more; 64 bins
    # gave it a handful there, and the fine bins alone lost the upper tail (off by 0.06)
    points = np.quantile(prices, np.linspace(0.05, 0.95, 19))
    released = np.interp(points, edges, np.concatenate([[0], np.cumsum(masses)]))
    assert np.abs(released - np.searchsorted(np.sort(prices), points) / len(prices)).max() < 0.02


def test_values_in_a_narrow_span_far_from_zero_get_bins_of_their_own():
    from scipy import stats

    from ganforge.tabular.private import noisy_histogram

    rng = np.random.default_rng(0)
    years = rng.integers(1980, 1988, 3500).astype(float)  # eight years in [512, 2048)
    latitudes = rng.normal(47.6, 0.1, 2000)  # a city's, in [16, 64)
    fits = {"years": [], "latitudes": []}
    for seed in range(10):  # a column of nine or five at epsilon 1: a twentieth for the shape
        for name, values in (("years", years), ("latitudes", latitudes)):
            noise = np.random.default_rng(seed)
            low, high, total, *_ = private_range(values, name, 0.05, noise)
            edges, masses = noisy_histogram(values, low, high, total, 0.05, noise)
            assert low <= values.min() and high >= values.max()
            cumulative = np.concatenate([[0], np.cumsum(masses)])
            draws = np.interp(np.random.default_rng(seed).random(4000), cumulative, edges)
            fits[name].append(1 - stats.ks_2samp(values, draws.round() if name == "years" else draws).statistic)
    # over even bins alone, all eight years fell into one 35-year bin (0.33), the latitudes into one of 2 degrees
    assert np.mean(fits["years"]) > 0.85, fits
    assert np.mean(fits["latitudes"]) > 0.8, fits


def test_density_attack_finds_copies_and_not_fresh_rows():
    rng = np.random.default_rng(0)
    population = rng.normal(size=(2000, 4))
    train, holdout = population[:500], population[500:1000]
    copies = np.repeat(train, 2, axis=0) + rng.normal(0, 0.01, (1000, 4))
    assert density_membership_auc(train, holdout, copies, np.random.default_rng(1)) > 0.7
    fresh = population[1000:]
    assert abs(density_membership_auc(train, holdout, fresh, np.random.default_rng(1)) - 0.5) < 0.1


def test_an_overfit_model_leaks_membership_and_a_private_one_does_not():
    rng = np.random.default_rng(0)

    def rows(n):  # 6**5 level combinations for 100 rows: a memorising generator is easy to tell apart
        return pd.DataFrame({f"c{i}": rng.choice(list("abcdef"), n) for i in range(5)} | {"x": rng.normal(size=n)})

    train, holdout = rows(100), rows(100)
    shared = dict(pack=1, loss="nonsaturating", generator_dims=(128, 128), discriminator_dims=(128, 128),
                  embedding_dim=32, ema_decay=0.0, generator_lr=1e-3, discriminator_lr=1e-3, seed=0)
    overfit = TabularSynthesizer(**shared, epochs=800, batch_size=100).fit(train)
    private = TabularSynthesizer(**shared, epochs=60, batch_size=33, dp_epsilon=1.0, dp_delta=1e-3,
                                 dp_marginal_steps=300,
                                 dp_public_bounds={"x": [-5, 5]},
                                 dp_public_categories={f"c{i}": list("abcdef") for i in range(5)}).fit(train)
    # the private fit's noise is drawn afresh each run (a seed would let anyone replay it), and one sample's
    # attack AUC on 100 rows spreads by about 0.035: four samples are averaged
    leaked, kept = ([privacy(train, model.sample(500, seed=seed), holdout, overfit.schema_) for seed in range(4)]
                    for model in (overfit, private))
    auc = {name: np.mean([report["membership_auc"] for report in reports])
           for name, reports in (("leaked", leaked), ("kept", kept))}
    assert auc["leaked"] > 0.65 and all(r["dcr_synthetic_median"] < r["dcr_holdout_median"] for r in leaked)
    assert auc["leaked"] - auc["kept"] > 0.15
    assert private.privacy_["epsilon"] <= 1.0 + 1e-6


def survey(rows: int, seed: int = 0) -> pd.DataFrame:
    """The shape of a real public survey table that epsilon 1 once refused: four categories, an age, an income
    and a standardised scale squeezed between -2 and 2."""
    rng = np.random.default_rng(seed)
    scale = np.clip(rng.normal(0, 0.9, rows), -1.8, 2.0).round(5)
    return pd.DataFrame({
        "region": rng.choice(["C", "M", "N", "S", "SA"], rows, p=[0.15, 0.1, 0.2, 0.25, 0.3]),
        "sex": rng.choice(["F", "M"], rows), "education": rng.choice(["P", "PS", "S"], rows, p=[0.4, 0.2, 0.4]),
        "age": rng.integers(18, 71, rows), "income": rng.choice([2500, 7500, 15000, 35000, 75000], rows),
        "statusquo": scale, "vote": np.where(scale > 0.3, "Y", rng.choice(["N", "U", "A"], rows))})


def test_an_ordinary_survey_table_trains_at_epsilon_one_and_the_split_adds_up():
    model = TabularSynthesizer(**{**TINY, "dp_epsilon": 1.0, "epochs": 2}).fit(survey(1701))
    spent = model.privacy_
    statistics, marginals = spent["statistics"]["epsilon"], spent["marginals"]["epsilon"]
    assert spent["training"] is None and model.training_["stopped_by"] == "marginals"  # the default: no DP-SGD
    assert "DP-SGD" not in spent["covers"] and "no discriminator was trained on the rows" in spent["covers"]
    # the pairs were bought: as many as the seven columns less one (or eight, with a number's missing-value
    # indicator where its noisy count of missing values, none here, passed by noise: `statusquo` in 2 of 20 runs),
    # chosen from all their pairs, and `fit` names them
    columns = Cells(model.transform_.layout).columns
    assert spent["marginals"]["pairs"] == len(spent["marginals"]["chosen"]) == columns - 1 >= 6
    assert spent["marginals"]["chosen_from"] == columns * (columns - 1) // 2 and marginals == pytest.approx(0.3)
    chosen = next(line for line in budget_lines(spent) if line.startswith("pair marginals bought"))
    assert f"furthest from independence, chosen privately of {columns * (columns - 1) // 2} with 25%" in chosen
    assert all(" & " in pair and pair in chosen for pair in spent["marginals"]["chosen"])
    assert statistics + spent["row_count"]["epsilon"] + marginals == pytest.approx(1.0)
    assert spent["epsilon"] == pytest.approx(1.0)
    assert set(spent["statistics"]["bought"]) == set(survey(5).columns)
    rows = model.sample(500, seed=0)
    assert rows["statusquo"].min() < -0.5 < 0.5 < rows["statusquo"].max()  # both sides of the scale survive
    assert set(rows["region"].dropna()) <= {"C", "M", "N", "S", "SA"}
    # a sample's categories come at the counts the statistics released (post-processing), not a multinomial's
    region = next(column.encoder for column in model.transform_.columns if column.spec.name == "region")
    released = pd.Series(region.counts, index=region.levels, dtype=float).clip(lower=0)
    for seed in range(2):
        counts = model.sample(77, seed=seed)["region"].value_counts().reindex(released.index, fill_value=0)
        assert counts.tolist() == shares_to_counts(released.to_numpy() / released.sum(), 77).tolist()


def test_a_table_too_small_for_its_budget_names_every_column_and_the_cli_options():
    with pytest.raises(GanforgeError) as refused:
        TabularSynthesizer(**{**TINY, "dp_epsilon": 1.0, "epochs": 1}).fit(survey(120))
    message = str(refused.value)
    assert message.startswith("differential privacy: 120 rows are too few")
    named = dict((column, option) for option, column in re.findall(r"--(dp-bounds|dp-categories) (\w+)=", message))
    # every column that failed, not only the first; the noise is unseeded (as it must be), and an empty range
    # bin passes by noise with chance EMPTY_BIN_RISK, so one numeric column in twenty may get a range anyway
    assert len(named) >= 5 and set(named) <= set(survey(5).columns)
    # incomes, five large whole numbers with 24 rows each where a level's release needs 94, are a number here
    assert all(option == ("dp-bounds" if column in ("age", "statusquo", "income") else "dp-categories")
               for column, option in named.items())
    assert "dp_public" not in message and "\n" not in message


def test_integer_codes_get_levels_from_a_private_range():
    codes = pd.DataFrame({"state": np.random.default_rng(0).integers(1, 11, 4000)})
    transform = fit_private_transform(codes, infer_schema(codes, {"state": "categorical"}), TabularConfig(),
                                      PrivacyConfig(dp_epsilon=1), 1.0, 1e-6, np.random.default_rng(0))
    assert sorted(transform.columns[0].encoder.levels) == list(range(1, 11))


def test_integer_codes_of_a_small_table_are_released_where_thresholds_release_none():
    rng = np.random.default_rng(0)
    small = pd.DataFrame({"state": rng.permutation(np.repeat(np.arange(1, 8), 60))})
    schema = infer_schema(small)
    assert schema[0].kind == "categorical"
    epsilon, delta = 0.2, 5e-7  # a level needs 1 + ln(1/(2 delta))/0.2 = 71 rows
    with pytest.raises(GanforgeError, match="no value is held by the 71 rows"):
        noisy_levels(small["state"], "state", epsilon, delta, np.random.default_rng(0))
    for seed in range(3):
        transform = fit_private_transform(small, schema, TabularConfig(), PrivacyConfig(dp_epsilon=1), epsilon,
                                          delta, np.random.default_rng(seed))
        codes = transform.columns[0].encoder
        assert len(set(codes.levels) & set(range(1, 8))) >= 4 and all(0 <= c <= 32 for c in codes.levels)
        made_up = sum(c for level, c in zip(codes.levels, codes.counts) if level not in range(1, 8))
        assert made_up < 0.2 * sum(codes.counts)


def test_a_category_of_large_numbers_too_thin_to_release_becomes_a_number():
    rng = np.random.default_rng(0)
    sizes = np.array([3_750, 15_000, 45_000, 125_000, 250_000])
    towns = pd.DataFrame({"population": rng.choice(sizes, 1000, p=[0.1, 0.15, 0.2, 0.25, 0.3])})
    schema = infer_schema(towns, private=True)
    assert schema[0].kind == "categorical"
    epsilon, delta = 0.05, 1e-6  # a level needs about 1 + ln(1/(2 delta))/0.05 = 263 rows; they hold 200 on average
    thin = fit_private_transform(towns, schema, TabularConfig(), PrivacyConfig(dp_epsilon=1), epsilon, delta,
                                 np.random.default_rng(1), rows=1000.0)
    column = thin.columns[0]
    assert column.spec.kind == "integer" and "--column-kind population=categorical" in column.spec.reason
    shape = column.encoder  # a range and a distribution function over it, not 250,000 alone
    median = np.interp(0.5, shape.probabilities, shape.values)
    assert shape.values[0] < 50_000 < shape.values[-1] and 30_000 < median < 300_000
    # with more rows a level, a declared kind or levels, or no row count, the levels stay
    plenty = fit_private_transform(towns, schema, TabularConfig(), PrivacyConfig(dp_epsilon=1), 0.5, delta,
                                   np.random.default_rng(1), rows=1000.0)
    assert plenty.columns[0].spec.kind == "categorical"
    declared = TabularConfig(column_kinds={"population": "categorical"})
    listed = PrivacyConfig(dp_epsilon=1, dp_public_categories={"population": sizes.tolist()})
    unpaid = ((declared, PrivacyConfig(dp_epsilon=1), 1000.0), (TabularConfig(), PrivacyConfig(dp_epsilon=1), None),
              (TabularConfig(), listed, 1000.0))
    for config, budget, rows in unpaid:
        kept = fit_private_transform(towns, schema, config, budget, epsilon, delta, np.random.default_rng(1), rows)
        assert kept.columns[0].spec.kind == "categorical"


def test_a_thin_run_of_consecutive_years_gets_a_bin_for_each_year():
    from scipy import stats

    rng = np.random.default_rng(0)
    years = rng.choice(np.arange(1976, 1985), 1000, p=[0.08, 0.13, 0.14, 0.14, 0.14, 0.14, 0.13, 0.07, 0.03])
    ages = rng.choice(np.arange(20, 66, 5), 1000)  # spaced levels: no run of whole numbers
    panel = pd.DataFrame({"year": years, "age": ages})
    schema = infer_schema(panel, private=True)
    assert [spec.kind for spec in schema] == ["categorical", "categorical"]
    fits = {"year": [], "age": []}
    for seed in range(10):  # a level needs about 132 rows at a column's epsilon of 0.1; a year holds about 110
        transform = fit_private_transform(panel, schema, TabularConfig(), PrivacyConfig(dp_epsilon=1), 0.2, 1e-6,
                                          np.random.default_rng(seed), rows=1000.0)
        for column in transform.columns:
            assert column.spec.kind == "integer"  # released as a number
            shape = column.encoder
            draws = np.interp(np.random.default_rng(seed).random(2000), shape.probabilities, shape.values).round()
            fits[column.spec.name].append(1 - stats.ks_2samp(panel[column.spec.name], draws).statistic)
        assert "a bin for each whole number" in transform.columns[0].spec.reason
        assert "a bin for each" not in transform.columns[1].spec.reason
    # in the few bins the noise allows over the private range 512-2,048 the years fell into one or two bins of
    # 100 years and more (0.46); a bin for every whole number of the range, empty ones floored, finds the run (0.92)
    assert np.mean(fits["year"]) > 0.85, fits
    assert np.mean(fits["age"]) > 0.8, fits  # even bins as before (0.86): the levels are 5 apart


def test_a_number_with_few_values_each_held_by_many_rows_is_released_as_its_values():
    from scipy import stats

    rng = np.random.default_rng(0)
    heights = np.arange(64.0, 73.0) + 0.5  # heights to the half inch: nine values
    table = pd.DataFrame({"height": rng.choice(heights, 2000, p=[0.03, 0.07, 0.1, 0.2, 0.22, 0.18, 0.1, 0.07, 0.03])})
    schema = infer_schema(table, private=True)
    assert schema[0].kind == "categorical"  # nine values: a category without privacy too
    table["height"] += rng.choice([0.0, 0.25], 2000)  # and quarters: 18 values, a number
    schema = infer_schema(table, private=True)
    assert schema[0].kind == "continuous"
    fits = []
    for seed in range(5):  # a value's release needs about 67 rows at a column's epsilon of 0.2; each holds 111
        transform = fit_private_transform(table, schema, TabularConfig(), PrivacyConfig(dp_epsilon=1), 0.2, 1e-6,
                                          np.random.default_rng(seed), rows=2000.0)
        column = transform.columns[0]
        assert column.spec.kind == "categorical" and "--column-kind height=continuous" in column.spec.reason
        levels, counts = column.encoder.levels, np.asarray(column.encoder.counts, dtype=float)
        assert set(levels) <= set(table["height"])  # only real values, each at its noisy count
        draws = np.random.default_rng(seed).choice(levels, 4000, p=counts / counts.sum())
        fits.append(1 - stats.ks_2samp(table["height"], draws).statistic)
    # a histogram over the private range spread each value over its bin (0.887 on average, 0.878 at its worst);
    # as values 0.933 (the rarest, under the release's need, are left out)
    assert np.mean(fits) > 0.91 and min(fits) > 0.895, fits
    # fewer rows a value than 1.5 times a release's need, a declared kind or bounds: a number as before
    kept = ((TabularConfig(), PrivacyConfig(dp_epsilon=1), 0.08),
            (TabularConfig(column_kinds={"height": "continuous"}), PrivacyConfig(dp_epsilon=1), 0.2),
            (TabularConfig(), PrivacyConfig(dp_epsilon=1, dp_public_bounds={"height": (60.0, 80.0)}), 0.2))
    for config, budget, epsilon in kept:
        transform = fit_private_transform(table, schema, config, budget, epsilon, 1e-6, np.random.default_rng(0),
                                          rows=2000.0)
        assert transform.columns[0].spec.kind == "continuous"


def test_zcdp_conversion_spends_the_delta_asked_for_and_no_more():
    for epsilon, delta in ((0.15, 2.5e-6), (1.0, 5e-6), (3.0, 1e-9)):
        rho = zcdp_rho(epsilon, delta)
        assert zcdp_delta(rho, epsilon) <= delta < zcdp_delta(1.01 * rho, epsilon)
        # the same least over Renyi orders, on a grid of them
        alphas = np.linspace(1.0001, 2 * (epsilon / rho + 1), 400_000)
        grid = np.exp((alphas - 1) * (alphas * rho - epsilon) + (alphas - 1) * np.log1p(-1 / alphas)
                      - np.log(alphas)).min()
        assert zcdp_delta(rho, epsilon) == pytest.approx(grid, rel=1e-3)
        # never looser than the usual bound, epsilon = rho + 2 sqrt(rho ln(1/delta))
        assert rho >= (np.sqrt(np.log(1 / delta) + epsilon) - np.sqrt(np.log(1 / delta))) ** 2
        # and no tighter than what a Gaussian mechanism at that rho really spends (Balle & Wang 2018)
        mu = np.sqrt(2 * rho)
        exact = norm.cdf(-epsilon / mu + mu / 2) - np.exp(epsilon) * norm.cdf(-epsilon / mu - mu / 2)
        assert exact <= delta


def encoded_survey(rows: int, epsilon: float = 1.0, delta: float = 1e-6):
    """A survey table through a private transform (statistics at (epsilon, delta)): the transform, its encoded
    rows and their cells."""
    table = survey(rows)
    transform = fit_private_transform(table, infer_schema(table), TabularConfig(), PrivacyConfig(dp_epsilon=1),
                                      epsilon, delta, np.random.default_rng(0))
    scalars, codes = transform.encode(table, np.random.default_rng(0))
    return transform, scalars, codes, Cells(transform.layout)


def test_pair_marginals_are_measured_with_the_noise_the_budget_sets():
    transform, scalars, codes, cells = encoded_survey(2000)
    exact = measure(cells, scalars, codes, 1e9, np.random.default_rng(1))  # a budget with no noise to speak of
    assert exact.rows == pytest.approx(2000, abs=1)
    assert exact.pairs == cells.columns * (cells.columns - 1) // 2
    noisy = measure(cells, scalars, codes, zcdp_rho(0.5, 1e-6), np.random.default_rng(1))
    assert noisy.sigma == pytest.approx(np.sqrt(noisy.pairs / (2 * zcdp_rho(0.5, 1e-6))))
    owner = np.repeat(np.arange(cells.columns), cells.sizes)
    between = owner[:, None] != owner[None, :]
    residual = (noisy.counts - exact.counts)[between]
    assert residual.std() == pytest.approx(noisy.sigma, rel=0.1)  # the noise is what the accounting says


def test_the_pairs_furthest_from_independence_are_chosen_privately_and_measured_with_the_rest():
    transform, scalars, codes, cells = encoded_survey(3000)
    known = cells.known_shares(transform.category_counts(), quantile=True)
    # no row count: all pairs
    every = measure(cells, scalars, codes, zcdp_rho(0.3, 5e-6), np.random.default_rng(1), known)
    assert every.measured is None and every.pairs == len(cells.pairs)

    chosen = measure(cells, scalars, codes, zcdp_rho(0.3, 5e-6), np.random.default_rng(1), known, rows_hint=2990)
    assert chosen.pairs == len(chosen.measured) == cells.columns - 1
    # the selection's share of rho is spent, and the rest sets the noise on the fewer tables
    assert chosen.sigma == pytest.approx(np.sqrt(chosen.pairs / (2 * (1 - SELECT_SHARE) * zcdp_rho(0.3, 5e-6))))
    assert chosen.sigma < 0.65 * every.sigma  # 6 tables of 21, at three quarters of the rho
    row_cells = cells.of_rows(scalars, codes)
    joints = {(a, b): cells.joint(row_cells, a, b) for a, b in cells.pairs}
    strongest = select_pairs(cells, joints, known, 3000, 1, 1e12, np.random.default_rng(0))[0]  # no noise
    assert strongest in chosen.measured  # statusquo and vote, which decides it above 0.3
    for a, b in set(cells.pairs) - set(chosen.measured):  # nothing measured, nothing stored
        assert not chosen.counts[cells.span(a), cells.span(b)].any()
    for a in range(cells.columns):  # every column's counts still sum to the rows
        assert np.diag(chosen.counts[cells.span(a), cells.span(a)]).sum() == pytest.approx(chosen.rows, rel=0.05)


def test_a_column_with_one_level_released_is_never_chosen_for_a_pair():
    table = survey(2000)
    table["sex"] = np.where(np.arange(2000) < 3, "M", "F")  # three men: only "F" is released
    transform = fit_private_transform(table, infer_schema(table), TabularConfig(), PrivacyConfig(dp_epsilon=1),
                                      1.0, 1e-6, np.random.default_rng(0))
    scalars, codes = transform.encode(table, np.random.default_rng(0))
    cells = Cells(transform.layout)
    sex = cell_names(transform).index("sex")
    assert cells.sizes[sex] == 1
    known = cells.known_shares(transform.category_counts(), quantile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its score was a division by zero
        chosen = measure(cells, scalars, codes, zcdp_rho(0.3, 5e-6), np.random.default_rng(1), known, rows_hint=2000)
    assert not any(sex in pair for pair in chosen.measured)


def test_the_generator_fitted_to_noisy_marginals_keeps_a_strong_dependence():
    table = survey(3000)
    model = TabularSynthesizer(**{**PLAIN, "dp_epsilon": 3.0, "dp_marginal_steps": 400}).fit(table)
    rows = model.sample(3000, seed=0)
    real = (table["vote"] == "Y").groupby(table["statusquo"] > 0.3).mean()
    fake = (rows["vote"] == "Y").groupby(rows["statusquo"] > 0.3).mean()
    assert real[True] == 1.0 and real[False] == 0.0
    # independent columns would give about 0; the noise is fresh each run: 0.39-0.53 over eleven runs, so 0.4
    # failed now and then
    assert fake[True] - fake[False] > 0.3


def test_a_single_column_gives_the_marginals_share_to_dp_sgd():
    table = pd.DataFrame({"x": np.random.default_rng(0).normal(size=3000)})
    for _ in range(3):  # the noisy missing count calls a full column nullable 2.5% of the time (fresh entropy):
        model = TabularSynthesizer(**{**TINY, "dp_epsilon": 2.0, "epochs": 1},  # then its indicator makes a pair
                                   dp_public_bounds={"x": [-5, 5]}).fit(table)
        if not model.transform_.columns[0].encoder.nullable:
            break
    assert not model.transform_.columns[0].encoder.nullable
    assert model.privacy_["marginals"] is None
    assert model.privacy_["training"]["epsilon_target"] == pytest.approx(2.0 * 0.3)
    assert model.privacy_["covers"].endswith("and discriminator training (DP-SGD)")


def test_year_codes_inside_a_wide_magnitude_bin_are_found_where_they_lie():
    years = pd.Series(np.random.default_rng(0).integers(1980, 1988, 3000))
    for seed in range(3):  # a budget at which no single code clears the cut over all 1,024 candidates
        levels, _ = integer_levels(years, "year", 0.045, 4.5e-7, np.random.default_rng(seed))
        assert len(levels) >= 5 and all(1970 <= level <= 1997 for level in levels)


def test_codes_near_the_cut_are_all_released_and_more_budget_releases_no_fewer():
    rng = np.random.default_rng(0)  # 79 school ids held by 25-95 rows each, as in a real pupils table
    schools = pd.Series(rng.permutation(np.repeat(np.arange(1, 80), rng.integers(25, 96, 79))), name="schid")
    for epsilon in (0.09, 0.26):  # a cut of about 180 rows passes no school, one of about 60 rows a third
        found = [len(set(integer_levels(schools, "schid", epsilon, 1e-6, np.random.default_rng(seed))[0])
                     & set(range(1, 80))) for seed in range(3)]
        assert min(found) >= 70, (epsilon, found)


def test_codes_that_clear_the_cut_stand_for_their_run_only_where_they_hold_most_of_it():
    rng = np.random.default_rng(0)  # 51 census state codes between 11 and 95, 3,400 rows, a few states large
    census = np.concatenate([np.arange(11, 17), np.arange(21, 24), np.arange(31, 36), np.arange(41, 48),
                             np.arange(51, 60), np.arange(61, 65), np.arange(71, 75), np.arange(81, 89),
                             np.arange(91, 96)])
    states = pd.Series(rng.choice(census, 3400, p=rng.dirichlet(np.full(51, 2.0))), name="state")
    found = [set(integer_levels(states, "state", 0.037, 2.8e-7, np.random.default_rng(seed))[0]) & set(census)
             for seed in range(20)]
    assert min(len(levels) for levels in found) >= 12, sorted(len(levels) for levels in found)  # was 1 in a draw


def test_whole_numbers_the_noise_allows_a_bin_each_get_one_and_keep_their_tails():
    from ganforge.tabular.private import noisy_histogram

    # years of experience 1-17, as in a wage survey: 7% at 1-2, 4% at 12 and over
    shares = np.array([11, 57, 91, 105, 117, 115, 124, 124, 113, 63, 41, 17, 8, 5, 4, 3, 2]) / 1000
    years = np.repeat(np.arange(1, 18), np.round(shares / shares.sum() * 3000).astype(int)).astype(float)
    truth = np.array([(years <= k).mean() for k in range(1, 17)])
    errors = []
    for seed in range(20):  # a shape epsilon at which the noise allows 17 bins over the range 1-16
        edges, masses = noisy_histogram(years, 1.0, 16.0, 3000.0, 0.022, np.random.default_rng(seed), whole=True)
        assert np.allclose(edges[1:-1], np.arange(1.5, 16)), edges  # a value rounds back into its own bin
        cumulative = np.interp(np.arange(1, 17) + 0.5, edges, np.concatenate([[0.0], np.cumsum(masses)]))
        errors.append(np.abs(cumulative - truth).max())
    assert np.mean(errors) < 0.072, np.round(errors, 3)  # bins placed by mass, cutting whole numbers: 0.082


def test_a_balanced_panel_of_codes_released_blurred_comes_out_even_and_stops_near_the_last_code():
    rng = np.random.default_rng(0)  # 46 state codes of 1-51, 21 rows each: no code clears the cut
    present = np.setdiff1d(np.arange(1, 52), [2, 6, 12, 34, 38])
    states = pd.Series(rng.permutation(np.repeat(present, 21)), name="state")
    truth = states.value_counts(normalize=True)
    distances, beyond = [], []
    for seed in range(10):
        levels, counts = integer_levels(states, "state", 0.074, 5e-7, np.random.default_rng(seed))
        shares = pd.Series(counts, index=levels, dtype=float) / sum(counts)
        distances.append(0.5 * truth.sub(shares, fill_value=0).abs().sum())
        beyond.append(shares[shares.index > 56].sum())
    # every code with a positive noisy count, as before: 0.52 from the truth, 0.13 of the rows past code 56
    assert np.mean(distances) < 0.35 and np.mean(beyond) < 0.08, (np.round(distances, 2), np.round(beyond, 2))


def test_codes_of_unequal_sizes_released_blurred_keep_their_sizes():
    rng = np.random.default_rng(1)  # 24 product ids, a few of them most of the rows
    sizes = np.sort(np.round(rng.lognormal(4.5, 1.2, 24)).astype(int) + 1)[::-1]
    ids = pd.Series(rng.permutation(np.repeat(np.arange(1, 25), sizes)), name="product_id")
    for seed in range(5):
        levels, counts = integer_levels(ids, "product_id", 0.0744, 5e-7, np.random.default_rng(seed))
        released = dict(zip(levels, counts))
        assert set(range(1, 25)) - set(released) <= set(range(12, 25))  # only small ones may be lost
        assert abs(released[1] / sum(counts) - sizes[0] / sizes.sum()) < 0.05


def test_rows_of_hidden_levels_are_spread_over_the_released_ones():
    from ganforge.tabular.encoders import CategoricalEncoder

    encoder = CategoricalEncoder(["a", "b", None], [300, 100, 50], top=3)
    _, codes = encoder.encode(pd.Series(["a", "b", None] + ["hidden"] * 400))
    assert codes[:3, 0].tolist() == [0, 1, 2]
    spread = np.bincount(codes[3:, 0], minlength=3)
    assert abs(spread[0] - 300) <= 2 and spread[2] == 0  # by the released counts, and never as missing
    assert 0 < np.bincount(codes[3:103, 0], minlength=3)[1] < 50  # interleaved, not in one run


def test_the_noise_never_comes_from_the_seed():
    table = survey(2000)
    settings = {**TINY, "dp_epsilon": 1.0, "dp_marginal_steps": 5, "seed": 0}
    first, second = (TabularSynthesizer(**settings).fit(table).transform_ for _ in range(2))
    age = [column.encoder.probabilities for column in (first.columns[3], second.columns[3])]
    assert len(age[0]) != len(age[1]) or not np.allclose(age[0], age[1])  # a stored seed must not replay it


def test_a_missing_level_of_a_numeric_category_is_stored_as_missing(tmp_path):
    table = survey(3000)
    table["income"] = table["income"].astype(float).mask(np.arange(3000) % 5 == 0)  # a fifth missing
    model = TabularSynthesizer(**{**TINY, "dp_epsilon": 3.0}).fit(table)
    levels = model.transform_.columns[4].encoder.levels
    assert None in levels and not any(isinstance(v, float) and np.isnan(v) for v in levels)
    model.save(tmp_path / "m")  # the metadata is strict JSON
    assert TabularSynthesizer.load(tmp_path / "m").sample(200, seed=0)["income"].isna().any()


def test_a_private_fit_refuses_to_resume(tmp_path):
    model = TabularSynthesizer(**{**TINY, "dp_epsilon": 1.0})
    with pytest.raises(GanforgeError, match="cannot resume"):
        model.fit(survey(2000), checkpoint_dir=tmp_path / "c", resume=True)


def test_a_flag_of_whole_numbers_keeps_both_levels_where_a_threshold_keeps_one():
    rng = np.random.default_rng(0)
    flag = pd.Series(rng.permutation(np.repeat([0, 1], [180, 120])), name="smoke")
    epsilon, delta = 0.1, 1e-6  # an unknown level needs 1 + ln(1/(2 delta))/0.1 = 132 rows; 0-15 need 74
    # alone, 37 beside a kept one
    draws = [np.random.default_rng(seed) for seed in range(20)]
    by_threshold = [noisy_levels(flag, "smoke", epsilon, delta, rng)[0] for rng in draws]
    draws = [np.random.default_rng(seed) for seed in range(20)]
    windowed = [small_number_levels(flag, "smoke", epsilon, delta, rng) for rng in draws]
    assert sum(1 in levels for levels in by_threshold) <= 6
    assert all(sorted(levels) == [0, 1] for levels, _ in windowed)
    assert all(abs(counts[levels.index(1)] - 120) < 60 for levels, counts in windowed)
    rare = pd.DataFrame({"smoke": np.repeat([0, 1], [295, 5])})  # the fit says what a one-level release means
    transform = fit_private_transform(rare, infer_schema(rare), TabularConfig(), PrivacyConfig(dp_epsilon=0.1),
                                      0.1, 1e-6, np.random.default_rng(0))
    assert "comes out constant" in statistics_bought(transform)["smoke"]
    assert "--dp-categories smoke=A,B,..." in statistics_bought(transform)["smoke"]


def test_a_flag_of_words_keeps_both_levels_where_a_threshold_refuses_it():
    rng = np.random.default_rng(0)
    flag = pd.Series(rng.permutation(np.repeat(["no", "yes"], [252, 130])), name="fullbase")
    epsilon, delta = 0.056, 4e-7  # a level of unknown key needs about 253 rows; a candidate word 136
    by_threshold, by_words = [], []
    for seed in range(20):
        try:
            by_threshold.append(noisy_levels(flag, "fullbase", epsilon, delta, np.random.default_rng(seed))[0])
        except GanforgeError:
            by_threshold.append([])
        by_words.append(flag_word_levels(flag, "fullbase", epsilon, delta, np.random.default_rng(seed))[0])
    assert all("yes" not in levels for levels in by_threshold)  # refused, or "no" alone: a constant column
    assert all(set(levels) <= {"no", "yes"} for levels in by_words)  # no other spelling made up
    assert sum(levels == ["no", "yes"] for levels in by_words) >= 18
    sexes = pd.Series(["F"] * 150 + ["M"] * 150, name="sex")  # F's partner T is never made up but by chance
    made_up = sum("T" in flag_word_levels(sexes, "sex", 0.1, 1e-6, np.random.default_rng(seed))[0]
                  for seed in range(100))
    assert made_up <= 4
    # other words of the column still need the threshold
    mixed = pd.Series(["yes"] * 200 + ["maybe"] * 3, name="answer")
    assert flag_word_levels(mixed, "answer", 0.1, 1e-6, np.random.default_rng(0))[0] == ["yes"]
    table = pd.DataFrame({"fullbase": flag})
    transform = fit_private_transform(table, infer_schema(table, private=True), TabularConfig(),
                                      PrivacyConfig(dp_epsilon=1), epsilon, delta, np.random.default_rng(3))
    assert sorted(transform.columns[0].encoder.levels) == ["no", "yes"]
    # a column with other values too is no flag: a colour F of 100 rows beside D and E needs the threshold's 132
    colours = pd.DataFrame({"colour": np.repeat(["D", "E", "F"], [400, 400, 100])})
    shown = sum("F" in fit_private_transform(colours, infer_schema(colours, private=True), TabularConfig(),
                                             PrivacyConfig(dp_epsilon=1), 0.1, 1e-6,
                                             np.random.default_rng(seed)).columns[0].encoder.levels
                for seed in range(30))
    assert shown <= 4


def test_small_whole_numbers_make_up_few_levels_and_larger_ones_still_need_the_threshold():
    rng = np.random.default_rng(1)
    values = pd.Series(rng.choice([1, 2, 3, 2008], 2000, p=[0.3, 0.3, 0.3, 0.1]).astype(float), name="grade")
    values[:40] = np.nan
    made_up, years = 0, 0
    for seed in range(40):
        levels, counts = small_number_levels(values, "grade", 0.3, 1e-6, np.random.default_rng(seed))
        assert {1, 2, 3} <= set(levels) and counts == sorted(counts, reverse=True)
        made_up += len(set(levels) - {1, 2, 3, 2008, None})
        years += 2008 in levels
    assert made_up <= 2 and years == 40  # an empty candidate passes with chance under 5% a draw
    rare = pd.Series([5] * 30 + [3000] * 3, name="grade")  # 3 rows of an unknown key stay hidden
    assert small_number_levels(rare, "grade", 1.0, 1e-6, np.random.default_rng(0))[0] == [5]
    with pytest.raises(GanforgeError, match="no value is held by the 74 rows"):
        small_number_levels(pd.Series([7] * 30, name="grade"), "grade", 0.1, 1e-6, np.random.default_rng(0))


def test_a_boolean_column_keeps_both_levels_at_any_epsilon():
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"member": rng.random(150) < 0.3, "score": rng.normal(10, 2, 150).round(2)})
    schema = infer_schema(table)
    assert schema[0].kind == "boolean"
    config = PrivacyConfig(dp_epsilon=0.1, dp_public_bounds={"score": [0, 20]})
    transform = fit_private_transform(table, schema, TabularConfig(), config, 0.1, 1e-6, np.random.default_rng(0))
    assert sorted(transform.columns[0].encoder.levels) == [False, True]


def test_a_refused_integer_coded_category_asks_for_its_levels_and_trains_once_they_are_declared():
    rng = np.random.default_rng(0)
    small = pd.DataFrame({"race": rng.integers(1, 4, 130), "weight": rng.normal(120, 20, 130).round(1)})
    schema = infer_schema(small)
    with pytest.raises(GanforgeError) as refused:  # 0.1 for each column, as for ten columns at epsilon 1
        fit_private_transform(small, schema, TabularConfig(), PrivacyConfig(dp_epsilon=0.2), 0.2, 1e-6,
                              np.random.default_rng(0))
    assert "--dp-categories race=A,B,..." in str(refused.value) and "--dp-bounds race" not in str(refused.value)
    declared = PrivacyConfig(dp_epsilon=0.2, dp_public_categories={"race": ["1", "2", "3"]},
                             dp_public_bounds={"weight": [60, 180]})
    transform = fit_private_transform(small, schema, TabularConfig(), declared, 0.2, 1e-6, np.random.default_rng(0))
    assert sorted(transform.columns[0].encoder.levels) == [1, 2, 3]


def test_pair_marginals_too_noisy_to_show_any_dependence_become_independent_columns():
    transform, scalars, codes, cells = encoded_survey(150, 1e6, 0.5)
    known = cells.known_shares(transform.category_counts(), quantile=True)
    small = measure(cells, scalars, codes, zcdp_rho(0.3, 5e-6), np.random.default_rng(1), known)
    assert small.strongest < DEPENDENCE_SHOWN
    shares = [np.diag(small.counts[cells.span(a), cells.span(a)]) / small.rows for a in range(cells.columns)]
    assert all(s.min() >= 0 and s.sum() == pytest.approx(1.0) for s in shares)
    for column, share in known.items():  # what the column statistics know, not the pairs' noisy sums
        np.testing.assert_allclose(shares[column], share)
    numbers = cells.layout.n_scalars
    assert numbers >= 2 and all(np.allclose(shares[j], 1 / len(shares[j])) for j in range(numbers))
    region = transform.category_counts()[0][:5] / transform.category_counts()[0][:5].sum()
    np.testing.assert_allclose(shares[numbers + cells.layout.conditional_blocks[0]][:5], region)
    for a, b in cells.pairs:  # every pair's target is the product of its columns' shares
        block = small.counts[cells.span(a), cells.span(b)]
        np.testing.assert_allclose(block, small.rows * np.outer(shares[a], shares[b]), atol=1e-9)
    larger = survey(3000)
    scalars, codes = transform.encode(larger, np.random.default_rng(0))
    # the same noise, 3,000 rows
    kept = measure(cells, scalars, codes, zcdp_rho(0.3, 5e-6), np.random.default_rng(1), known)
    assert kept.strongest > DEPENDENCE_SHOWN
    deviations = np.concatenate([(kept.counts[cells.span(a), cells.span(b)]
                                  - kept.rows * np.outer(known[a], known[b])).ravel() for a, b in cells.pairs])
    assert deviations.std() > 0.5 * kept.sigma  # the measured counts, noise and all, not the products


def test_a_small_table_gives_the_pairs_share_to_its_statistics_and_the_fit_says_why(monkeypatch):
    # the private noise is fresh entropy; here one fixed draw, as a row count 90 or more too high (3% of draws)
    # buys the pairs of 150 rows
    fresh = np.random.default_rng
    monkeypatch.setattr(np.random, "default_rng", lambda *args, **kwargs: fresh(*args, **kwargs) if args or kwargs
                        else fresh(3))
    table = survey(150)
    public = dict(dp_public_bounds={"age": [18, 70], "statusquo": [-2, 2]},
                  dp_public_categories={"region": ["C", "M", "N", "S", "SA"], "sex": ["F", "M"],
                                        "education": ["P", "PS", "S"], "vote": ["Y", "N", "U", "A"],
                                        "income": [2500, 7500, 15000, 35000, 75000]})
    model = TabularSynthesizer(**{**TINY, "dp_epsilon": 1.0}, **public).fit(table)
    spent, marginals = model.privacy_, model.privacy_["marginals"]
    assert spent["row_count"]["strongest_dependence"] < DEPENDENCE_SHOWN and abs(spent["row_count"]["rows"] - 150) < 400
    assert not marginals["measured"] and marginals["epsilon"] == 0 and marginals["independent"]
    assert spent["statistics"]["epsilon"] == pytest.approx(0.97) and spent["statistics"]["delta"] == 1e-5
    assert spent["epsilon"] == pytest.approx(1.0)
    lines = budget_lines(spent)
    assert lines[0] == "budget split: row count epsilon 0.03, statistics epsilon 0.97 (0.139 for each of 7 columns)"
    assert any(line.startswith("pair marginals not bought: at the noisy count of") for line in lines)
    assert "independent columns" in privacy_line(spent)  # what `info` shows
    rows = model.sample(2000, seed=0)  # the released level counts, not a uniform guess
    assert set(rows["region"]) <= {"C", "M", "N", "S", "SA"} and rows["region"].value_counts(normalize=True).max() < 0.6


def test_the_plan_buys_the_pairs_where_rows_could_show_a_dependence_and_always_adds_up():
    config = PrivacyConfig(dp_epsilon=1.0)
    schema = infer_schema(survey(50))
    small = plan_budget(config, schema, 150, True, np.random.default_rng(0))
    large = plan_budget(config, schema, 3000, True, np.random.default_rng(0))
    assert small.pairs_set_aside and small.parts == {} and small.statistics == (pytest.approx(0.97), 1e-5)
    assert not large.pairs_set_aside and large.parts["marginals"] == (pytest.approx(0.3), 5e-6)
    assert large.statistics == (pytest.approx(0.67), 5e-6)
    assert small.epsilon == pytest.approx(1.0) and large.epsilon == pytest.approx(1.0)
    counts = [plan_budget(config, schema, 1000, True, np.random.default_rng(seed)).row_count["rows"]
              for seed in range(200)]
    assert abs(np.mean(counts) - 1000) < 10 and np.std(counts) == pytest.approx(np.sqrt(2) / 0.03, rel=0.2)
    asked = plan_budget(PrivacyConfig(dp_epsilon=1.0, dp_sgd_share=0.1), schema, 150, True, np.random.default_rng(0))
    assert asked.row_count is None and set(asked.parts) == {"marginals", "dp_sgd"}  # the configured split
    assert plan_budget(config, schema, 150, False, np.random.default_rng(0)).row_count is None  # mixture modes


def test_many_columns_compose_in_zcdp_and_leave_the_pairs_more_at_the_same_guarantee():
    config, rng = PrivacyConfig(dp_epsilon=1.0), np.random.default_rng(0)
    wide = pd.DataFrame({f"x{i}": rng.normal(size=200) for i in range(14)})
    plan = plan_budget(config, infer_schema(wide), 5000, True, np.random.default_rng(0))
    apart = zcdp_rho(*plan.parts["marginals"])
    assert plan.composed == "together" and plan.marginals_rho > 1.5 * apart
    # every column's statistics (epsilon_c^2 / 2 each) and the marginals, converted once, spend what the row
    # count leaves
    spent = 14 * (plan.statistics[0] / 14) ** 2 / 2 + plan.marginals_rho
    rest = config.dp_epsilon - plan.row_count["epsilon"]
    assert zcdp_delta(spent, rest) <= plan.parts["marginals"][1] * (1 + 1e-9)
    assert plan.statistics[1] + plan.parts["marginals"][1] == pytest.approx(config.dp_delta)  # thresholds + conversion
    assert plan.epsilon == pytest.approx(1.0)
    narrow = plan_budget(config, infer_schema(survey(50)), 3000, True, np.random.default_rng(0))
    assert narrow.composed == "apart" and narrow.marginals_rho == zcdp_rho(*narrow.parts["marginals"])
    # a fit says so, and measures at that rho
    base = rng.normal(size=3000)
    table = pd.DataFrame({f"x{i}": (base + rng.normal(size=3000)).round(3) for i in range(14)})
    spent = TabularSynthesizer(**{**TINY, "dp_epsilon": 1.0, "epochs": 2}).fit(table).privacy_
    assert spent["marginals"]["composed"] == "together" and spent["marginals"]["rho"] > 1.5 * spent["marginals"][
        "rho_apart"]
    assert spent["epsilon"] == pytest.approx(1.0)
    assert any(line.startswith("  rho composed with the column statistics in zCDP") for line in budget_lines(spent))


def test_independent_columns_keep_a_numbers_noisy_share_of_missing_values():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(50, 10, 2000), "y": rng.normal(0, 1, 2000)})
    table.loc[rng.random(2000) < 0.3, "x"] = np.nan
    bounds = PrivacyConfig(dp_epsilon=2.0, dp_public_bounds={"x": [0, 100], "y": [-5, 5]})
    transform = fit_private_transform(table, infer_schema(table), TabularConfig(), bounds, 2.0, 1e-6, rng)
    shares = transform.missing_shares()
    assert list(shares) == [0] and shares[0] == pytest.approx(0.3, abs=0.03)  # y has no missing values
    known = Cells(transform.layout).known_shares(transform.category_counts(), True, shares)
    np.testing.assert_allclose(known[2], [1 - shares[0], shares[0]])  # after the two numbers' bins


def test_declared_levels_get_no_made_up_missing_level():
    colours = pd.Series(np.random.default_rng(0).choice(["red", "green", "blue"], 150))
    releases = [noisy_levels(colours, "colour", 0.1, 1e-5, np.random.default_rng(seed), ["red", "green", "blue"])
                for seed in range(30)]
    assert all(sorted(levels) == ["blue", "green", "red"] for levels, _ in releases)  # no missing level, ever
    gappy = colours.where(np.arange(150) % 3 > 0)  # a third missing: a level the noise cannot hide
    levels, counts = noisy_levels(gappy, "colour", 1.0, 1e-5, np.random.default_rng(0), ["red", "green", "blue"])
    assert None in levels and abs(counts[levels.index(None)] - 50) < 15


def test_declared_levels_shrink_toward_even_shares_as_far_as_the_noise_blurs_them():
    rng = np.random.default_rng(0)  # 38 levels on 164 rows, a few common and a long tail of rare ones
    shares = rng.dirichlet(np.full(38, 0.5))
    models = pd.Series(rng.choice(38, 164, p=shares)).map("model-{}".format)
    declared = [f"model-{i}" for i in range(38)]
    truth = models.value_counts(normalize=True)
    fits = []
    for seed in range(100):  # a column of eleven at epsilon 1
        levels, counts = noisy_levels(models, "model", 0.09, 1e-5, np.random.default_rng(seed), declared)
        released = pd.Series(counts, index=levels, dtype=float) / sum(counts)
        fits.append(1 - 0.5 * released.sub(truth, fill_value=0).abs().sum())  # total variation complement
        assert sorted(levels) == sorted(declared) and min(counts) >= 1
    # 0.60; each count clipped at one row alone, 0.53 (the clipped noise of the rare levels outweighed the rows)
    assert np.mean(fits) > 0.58


def test_a_few_bin_histogram_spaces_a_skewed_range_by_its_logarithm():
    from scipy import stats

    from ganforge.tabular.private import noisy_histogram

    enrolments = np.random.default_rng(0).lognormal(7, 1.1, 300).round() + 80  # 300 schools, 80 to 32,053
    low, high = float(enrolments.min()), float(enrolments.max())
    fits = []
    for seed in range(30):
        edges, masses = noisy_histogram(enrolments, low, high, 300, 0.05, np.random.default_rng(seed))
        assert len(edges) == 5  # the noise allows the fewest bins
        assert edges[1] - edges[0] < edges[-1] - edges[-2]  # narrow where the values crowd
        cumulative = np.concatenate([[0], np.cumsum(masses)])
        draws = np.interp(np.random.default_rng(seed).random(3000), cumulative, edges)
        fits.append(1 - stats.ks_2samp(enrolments, draws).statistic)
    # 0.87; four even bins put 97% of the schools into the first, spread evenly up to 8,100 (0.52)
    assert np.mean(fits) > 0.8


def test_declared_bounds_take_the_table_s_row_count_and_count_missing_values_in_their_histogram():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"age": rng.normal(40, 8, 300).round(1).clip(10, 90)})
    table["age"] = table["age"].mask(rng.random(300) < 0.4)
    schema = infer_schema(table, {"age": "continuous"})
    declared = PrivacyConfig(dp_epsilon=1, dp_public_bounds={"age": [0, 100]})

    def fit(seed: int, rows: float | None):
        column = fit_private_transform(table, schema, TabularConfig(), declared, 0.2, 1e-6,
                                       np.random.default_rng(seed), rows).columns[0]
        released = np.interp(np.sort(table["age"].dropna()), column.encoder.values, column.encoder.probabilities)
        ks = np.abs(released - np.arange(1, len(released) + 1) / len(released)).max()
        return column.encoder.nullable, column.extra.get("missing_share", 0.0), 1 - ks

    own, shared = zip(*[fit(seed, None) for seed in range(40)]), zip(*[fit(seed, 300.0) for seed in range(40)])
    own, shared = [np.asarray(v) for v in own], [np.asarray(v) for v in shared]
    assert shared[0].all() and abs(shared[1].mean() - 0.4) < 0.05  # missing values: a cell of the shape's partition
    # without the row count a quarter of the budget counts the values present and missing
    assert shared[2].mean() > own[2].mean() + 0.02


def test_values_past_a_power_of_two_join_the_range_beside_them():
    rng = np.random.default_rng(0)  # prices of 64-128 cents, a fifth of them 128-205: the bar for any of a
    prices = np.r_[rng.uniform(64, 128, 1600), rng.uniform(128, 204.8, 400)]  # hundred bins cut them at 128
    inside = [np.mean((prices >= low) & (prices <= high)) for low, high, *_ in
              (private_range(prices, "price", 0.02, np.random.default_rng(seed)) for seed in range(40))]
    assert np.mean(inside) > 0.99  # 0.84 before: [128, 256) held 400 rows, about 8 noise scales, and never joined
    within = rng.uniform(64, 128, 2000)  # values inside one power of two: an empty bin beside them rarely joins
    tops = [private_range(within, "price", 0.02, np.random.default_rng(seed)).high for seed in range(200)]
    assert np.mean(np.array(tops) > 128) < 0.05
