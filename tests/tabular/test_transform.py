import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from ganforge.config import TabularConfig
from ganforge.errors import GanforgeError
from ganforge.metrics.tabular import encode_features
from ganforge.schema import check_table, infer_schema
from ganforge.tabular.transform import TableTransform


def round_trip(frame: pd.DataFrame, **config) -> tuple[TableTransform, pd.DataFrame]:
    rng = np.random.default_rng(0)
    transform = TableTransform.fit(frame, infer_schema(frame), TabularConfig(**config), rng)
    scalars, codes = transform.encode(frame, rng)
    assert scalars.shape == (len(frame), transform.layout.n_scalars)
    assert codes.shape == (len(frame), len(transform.layout.block_sizes))
    assert scalars.dtype == np.float32 and codes.dtype == np.int32  # the encoded table is held once, compactly
    assert (codes < np.asarray(transform.layout.block_sizes)).all()
    return transform, transform.decode(scalars, codes, rng)


def test_round_trip_keeps_values_dtypes_and_order(table):
    _, back = round_trip(table)
    assert list(back.columns) == list(table.columns)
    assert (back.dtypes == table.dtypes).all()
    for name in ["colour", "age", "member", "joined", "country"]:
        assert back[name].tolist() == table[name].tolist(), name
    np.testing.assert_allclose(back["income"], table["income"], atol=0.011)
    assert back["score"].isna().tolist() == table["score"].isna().tolist()
    np.testing.assert_allclose(back["score"].dropna(), table["score"].dropna(), rtol=1e-4)


def test_continuous_values_stay_inside_the_seen_range():
    frame = pd.DataFrame({"x": np.random.default_rng(1).normal(size=500)})
    transform, _ = round_trip(frame, numeric_encoding="modes")
    scalars = np.ones((50, 1), np.float32)  # the far edge of every mode
    codes = np.repeat(np.arange(transform.layout.block_sizes[0]), 50)[:50, None] % transform.layout.block_sizes[0]
    values = transform.decode(scalars, codes, np.random.default_rng(0))["x"]
    assert values.min() >= frame.x.min() and values.max() <= frame.x.max()


def test_datetimes_and_timezones_come_back():
    stamps = pd.Series(pd.date_range("2021-01-01 08:00", periods=50, freq="37min", tz="Europe/Paris"))
    frame = pd.DataFrame({"when": stamps, "day": pd.date_range("2020-01-01", periods=50, freq="D")})
    _, back = round_trip(frame)
    assert back["when"].dtype == frame["when"].dtype and back["day"].dtype == frame["day"].dtype
    assert (back["when"] - frame["when"]).abs().max() <= pd.Timedelta(seconds=1)
    assert back["day"].tolist() == frame["day"].tolist()


def test_a_timezone_aware_column_keeps_its_clock_times_across_summer_time():
    # a shop open 9:00-16:00 in New York: in UTC its hours move by one twice a year
    rng = np.random.default_rng(0)
    days = pd.Series(pd.date_range("2021-01-01", "2022-12-31", freq="D")).sample(600, replace=True, random_state=0)
    local = days.to_numpy() + pd.to_timedelta(rng.integers(9, 17, 600), unit="h")
    frame = pd.DataFrame({"sold": pd.Series(local).dt.tz_localize("America/New_York")})
    transform, back = round_trip(frame)
    assert back["sold"].dtype == frame["sold"].dtype and back["sold"].tolist() == frame["sold"].tolist()
    assert "its time of day too" in transform.columns[0].spec.reason
    scores = rng.normal(size=(2000, transform.layout.n_scalars)).astype(np.float32)
    sampled = transform.decode(scores, np.zeros((2000, len(transform.layout.block_sizes)), np.int32), rng)["sold"]
    assert sampled.dt.hour.between(9, 16).all()  # in UTC's clock, 8:00 and 17:00 came out in a tenth of rows
    features, = encode_features([frame], infer_schema(frame))
    assert features["sold (hour)"].between(9, 16).all()


def test_date_text_with_utc_offsets_keeps_its_clock_times_and_writes_the_offset_of_its_season():
    rng = np.random.default_rng(1)
    days = pd.Series(pd.date_range("2021-01-01", "2022-12-31", freq="D")).sample(600, replace=True, random_state=1)
    local = pd.Series(days.to_numpy() + pd.to_timedelta(rng.integers(9, 17, 600), unit="h"))
    text = local.dt.tz_localize("America/New_York").map(lambda stamp: stamp.isoformat())  # -05:00 or -04:00
    frame = pd.DataFrame({"sold": text.where(np.arange(600) % 40 != 3)})
    transform, back = round_trip(frame)
    assert back["sold"].fillna("-").tolist() == frame["sold"].fillna("-").tolist()
    scores = rng.normal(size=(2000, transform.layout.n_scalars)).astype(np.float32)
    sampled = transform.decode(scores, np.zeros((2000, len(transform.layout.block_sizes)), np.int32), rng)["sold"]
    stamps = pd.to_datetime(sampled, format="%Y-%m-%dT%H:%M:%S%z", utc=True).dt.tz_convert("America/New_York")
    # written in New York's offset of the day, summer time or not (where the training rows say when it changed)
    assert stamps.dt.hour.between(9, 16).mean() > 0.995
    assert (sampled.str[:19] == stamps.dt.strftime("%Y-%m-%dT%H:%M:%S")).mean() > 0.99
    # rows from many zones: learned as instants, written as such
    many = pd.DataFrame({"sent": (local.dt.tz_localize("UTC") + pd.to_timedelta(rng.integers(-8, 9, 600), unit="h"))
                         .map(lambda stamp: stamp.tz_convert(f"Etc/GMT{rng.integers(-9, 9):+d}").isoformat())})
    transform, back = round_trip(many)
    instants = pd.to_datetime(many["sent"], utc=True)
    assert (pd.to_datetime(back["sent"], utc=True) - instants).abs().max() <= pd.Timedelta(seconds=1)
    assert back["sent"].str.endswith("+00:00").all()


def test_date_text_keeps_its_months_days_and_hours_with_or_without_a_leading_zero():
    # a spreadsheet's export writes "3/7/2021 4:05"; an ISO column beside it keeps "2021-03-07"
    rng = np.random.default_rng(2)
    stamps = pd.Series(pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700 * 24 * 60, 500), unit="min"))
    frame = pd.DataFrame({"sold": [f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}" for t in stamps],
                          "shipped": (stamps + pd.Timedelta(days=2)).dt.strftime("%Y-%m-%d")})
    transform, back = round_trip(frame)
    assert transform.columns[0].extra["unpadded"] == ["%m", "%d", "%H"] and "unpadded" not in transform.columns[1].extra
    assert back["sold"].tolist() == frame["sold"].tolist()
    scores = rng.normal(size=(2000, transform.layout.n_scalars)).astype(np.float32)
    sampled = transform.decode(scores, np.zeros((2000, len(transform.layout.block_sizes)), np.int32), rng)
    assert sampled["sold"].str.fullmatch(r"[1-9]\d?/[1-9]\d?/\d{4} ([1-9]?\d):\d{2}").all()
    assert sampled["sold"].str.match(r"\d/").mean() > 0.3  # single-digit months, unpadded
    assert sampled["shipped"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    transform = TableTransform.from_state(json.loads(json.dumps(transform.state())))
    assert transform.decode(scores[:50], np.zeros((50, 0), np.int32), rng)["sold"].str.fullmatch(
        r"[1-9]\d?/[1-9]\d?/\d{4} ([1-9]?\d):\d{2}").all()


def test_fractions_held_by_groups_of_rows_come_back_as_those_values_with_the_column_ends():
    # a town's pollution level, held by every tract of the town: new values between them are told at once
    rng = np.random.default_rng(3)
    levels = np.round(rng.uniform(0.38, 0.87, 60), 3)
    towns = rng.integers(0, 60, 500)
    frame = pd.DataFrame({"nox": levels[towns], "price": rng.lognormal(3, 0.4, 500), "rooms": rng.integers(3, 9, 500)})
    frame.loc[7, "nox"] = 0.9  # one tract alone: the column's top
    transform, back = round_trip(frame)
    nox, price, rooms = transform.columns
    assert "snapped to the" in nox.spec.reason and "support" not in price.extra and "support" not in rooms.extra
    assert set(nox.extra["support"]) == set(frame["nox"][frame["nox"].duplicated(keep=False)]) | {
        frame["nox"].min(), 0.9}
    np.testing.assert_allclose(back["nox"], frame["nox"])
    scores = np.tanh(rng.normal(size=(3000, transform.layout.n_scalars))).astype(np.float32)
    sampled = transform.decode(scores, np.zeros((3000, len(transform.layout.block_sizes)), np.int32), rng)
    assert set(sampled["nox"]) <= set(nox.extra["support"]) and sampled["nox"].nunique() > 40
    assert sampled["nox"].max() == 0.9


def test_dates_spanning_years_are_encoded_as_the_date_and_its_day_of_the_year():
    days = pd.Series(pd.date_range("2012-01-01", "2015-12-31", freq="D"))
    frame = pd.DataFrame({"day": days.where(np.arange(len(days)) % 50 != 7).dt.strftime("%Y/%m/%d"),
                          "hour": pd.date_range("2020-01-01", periods=len(days), freq="h"),
                          "every_day": pd.date_range("2020-01-01 06:30", periods=len(days), freq="25h"),
                          "daily": pd.date_range("2020-01-01", periods=len(days), freq="6h").floor("D")})
    transform, back = round_trip(frame)
    # days over four years; hours over two months; times over four years; days within one year: the date, and
    # its day of the year and time of day where it has them (every day of the week alike: not the day of the week)
    assert [c.scalar_count for c in transform.columns] == [2, 2, 3, 1]
    assert "its day of the year too" in transform.columns[0].spec.reason
    assert "its time of day too" in transform.columns[1].spec.reason
    for name in ("hour", "every_day"):
        assert (back[name] - frame[name]).abs().max() <= pd.Timedelta(seconds=1)
    assert back["day"].fillna("missing").tolist() == frame["day"].fillna("missing").tolist()  # 29 February too
    scalars, codes = transform.encode(frame, np.random.default_rng(0))
    july = (days.dt.month == 7).to_numpy()
    assert np.ptp(scalars[july, 1]) < 0.2 < np.ptp(scalars[july, 0])  # every July in one place of the second
    plain, _ = round_trip(frame, seasonal_dates=False)
    assert plain.columns[0].scalar_count == 1
    again = TableTransform.from_state(json.loads(json.dumps(transform.state())))  # as a saved model holds it
    pd.testing.assert_frame_equal(again.decode(scalars, codes, np.random.default_rng(3)),
                                  transform.decode(scalars, codes, np.random.default_rng(3)))


def test_working_days_decoded_from_any_scores_stay_working_days():
    days = pd.Series(pd.date_range("2019-01-01", "2021-12-31", freq="B")).dt.strftime("%Y-%m-%d")
    transform, _ = round_trip(pd.DataFrame({"day": days}))
    assert "its day of the year and its day of the week too" in transform.columns[0].spec.reason
    rng = np.random.default_rng(2)
    scalars = np.tanh(rng.normal(size=(2000, transform.layout.n_scalars))).astype(np.float32)
    back = pd.to_datetime(transform.decode(scalars, np.zeros((2000, 0), np.int32), rng, calibrate=True)["day"])
    assert (back.dt.dayofweek < 5).all() and back.dt.dayofweek.nunique() == 5
    assert back.min() >= pd.Timestamp("2019-01-01") and back.max() <= pd.Timestamp("2021-12-31")


def test_dates_decoded_from_any_scores_keep_the_days_the_column_holds_and_its_range():
    months = pd.Series(pd.date_range("1990-03-01", "1999-11-01", freq="MS")).dt.strftime("%Y-%m-%d")
    frame = pd.DataFrame({"month": months})
    transform, _ = round_trip(frame)
    rng = np.random.default_rng(1)
    scalars = np.tanh(rng.normal(size=(2000, transform.layout.n_scalars))).astype(np.float32)  # untrained
    codes = np.zeros((2000, 0), np.int32)
    back = pd.to_datetime(transform.decode(scalars, codes, rng, calibrate=True)["month"])
    assert (back.dt.day == 1).all()  # monthly data stays on the first of the month
    assert back.min() >= pd.Timestamp("1990-03-01") and back.max() <= pd.Timestamp("1999-11-01")


def test_seconds_past_what_a_timestamp_holds_come_back_as_its_ends():
    frame = pd.DataFrame({"day": pd.date_range("2020-01-01", periods=50, freq="D").strftime("%Y-%m-%d")})
    transform, _ = round_trip(frame)
    column = transform.columns[0]
    back = column._restore_datetimes(np.asarray([-8.6e14, 0.0, 1e18, np.nan]))  # a private range gone wide
    assert back.tolist()[:3] == ["1677-09-22", "1970-01-01", "2262-04-11"] and pd.isna(back.iloc[3])


def test_ten_thousand_levels_do_not_blow_up_the_width():
    rng = np.random.default_rng(0)
    levels = np.asarray([f"city-{i}" for i in range(10_000)])
    frame = pd.DataFrame({"city": levels[rng.zipf(1.3, 30_000) % 10_000], "n": rng.normal(size=30_000)})
    transform, back = round_trip(frame, max_categories=50)
    assert transform.layout.block_sizes[transform.column_block("city")] == 50
    assert set(back["city"]) <= set(frame["city"])
    top = frame["city"].value_counts().index[:49]
    kept = frame["city"].isin(top)
    assert (back["city"][kept] == frame["city"][kept]).all()


def test_integers_stay_integers():
    frame = pd.DataFrame({"n": np.random.default_rng(0).integers(0, 10_000, 300),
                          "m": np.where(np.arange(300) % 7 == 0, np.nan, np.arange(300) * 3.0)})
    _, back = round_trip(frame)
    assert back["n"].dtype == np.int64 and back["m"].dtype == np.float64
    assert np.all(back["m"].dropna() % 1 == 0)


def test_state_round_trips_through_json(table):
    rng = np.random.default_rng(0)
    transform = TableTransform.fit(table, infer_schema(table), TabularConfig(), rng)
    again = TableTransform.from_state(json.loads(json.dumps(transform.state())))
    assert again.layout == transform.layout
    scalars, codes = transform.encode(table, np.random.default_rng(1))
    pd.testing.assert_frame_equal(transform.decode(scalars, codes, np.random.default_rng(2)),
                                  again.decode(scalars, codes, np.random.default_rng(2)))


cells = st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False),
                  st.text(max_size=5), st.booleans())


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data_frames([column("a", elements=cells),
                    column("b", elements=st.one_of(st.none(), st.floats(-1e12, 1e12, allow_nan=False))),
                    column("c", elements=st.sampled_from(["x", "y", "ü", ""]))],
                   index=range_indexes(min_size=0, max_size=40)))
def test_any_table_round_trips_or_is_refused(frame):
    try:
        check_table(frame)
    except GanforgeError:
        return
    frame = frame.astype({"b": "float64"})
    if frame["b"].notna().sum() == 0:
        frame["b"] = frame["b"].astype("float64")
    _, back = round_trip(frame)
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    assert back["c"].tolist() == frame["c"].tolist()
    assert back["b"].isna().tolist() == frame["b"].isna().tolist()
    finite = frame["b"].notna()
    np.testing.assert_allclose(back["b"][finite], frame["b"][finite], rtol=1e-3,
                               atol=1e-3 * max(1.0, float(frame["b"][finite].abs().max() if finite.any() else 1)))


def test_infinite_values_are_refused():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.inf] * 10})
    with pytest.raises(GanforgeError, match="'x': has infinite values"):
        round_trip(frame)


@pytest.mark.parametrize("encoding", ["quantile", "modes"])
def test_repeated_values_are_snapped_onto_the_seen_set(encoding):
    sizes = np.asarray([80, 85, 100, 107, 120, 130, 170, 200, 210, 212, 214, 230, 240, 245, 250, 270, 320, 340,
                        345, 365, 405, 420, 424, 425, 426, 450, 452, 500, 525, 527, 528, 540, 545, 1000, 2100])
    frame = pd.DataFrame({"hd": np.random.default_rng(0).choice(sizes, 2000)})
    transform, _ = round_trip(frame, numeric_encoding=encoding)
    scalars = np.random.default_rng(1).uniform(-1, 1, (500, 1)).astype(np.float32)
    sizes_of_blocks = transform.layout.block_sizes  # the quantile encoding has no mode block
    codes = np.random.default_rng(2).integers(0, sizes_of_blocks[0], (500, 1)) if sizes_of_blocks else \
        np.zeros((500, 0), np.int64)
    decoded = transform.decode(scalars, codes, np.random.default_rng(0))["hd"]
    assert set(decoded) <= set(sizes) and decoded.nunique() > 10


def test_snapping_keeps_the_frequencies_of_unevenly_spaced_values():
    from ganforge.tabular.encoders import _snap

    support, counts = np.asarray([0.0, 1.0, 100.0]), np.asarray([10, 10, 10])
    spread = np.random.default_rng(0).uniform(0.0, 100.0, 30_000)  # mass spread evenly over the range
    quantile_like = np.interp(np.random.default_rng(1).uniform(size=30_000), [0, 1 / 6, 0.5, 5 / 6, 1],
                              [0.0, 0.0, 1.0, 100.0, 100.0])
    shares = np.unique(_snap(support, counts, quantile_like), return_counts=True)[1] / 30_000
    np.testing.assert_allclose(shares, [1 / 3] * 3, atol=0.02)
    assert set(_snap(support, counts, spread)) <= {0.0, 1.0, 100.0}
