"""Numbers that other numbers determine in every row are computed from them, not generated."""

import numpy as np
import pandas as pd
import pytest

from ganforge.config import TabularConfig, TrainConfig
from ganforge.errors import GanforgeError
from ganforge.schema import infer_schema
from ganforge.tabular.derived import (
    find_bins,
    find_combinations,
    find_derivations,
    find_pins,
    find_selections,
    find_value_sets,
)
from ganforge.tabular.synthesizer import TabularSynthesizer
from ganforge.tabular.transform import TableTransform


def survey(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 65, rows)
    schooling = np.minimum(rng.integers(8, 19, rows), age - 7)
    wage = np.round(rng.lognormal(6, 0.5, rows))
    return pd.DataFrame({"age": age, "schooling": schooling, "experience": age - schooling - 6,
                         "log_wage": np.log(wage), "wage": wage.astype(int),
                         "region": rng.choice(["north", "south", "east"], rows), "hours": rng.normal(40, 8, rows)})


def test_a_sum_of_columns_and_a_monotone_function_are_found_and_said():
    frame = survey()
    rules = {rule.column: rule for rule in find_derivations(frame, infer_schema(frame))}
    assert set(rules) == {"experience", "wage"}
    assert rules["experience"].describe() == "age - schooling - 6 in every training row"
    assert rules["wage"].sources == ("log_wage",) and rules["wage"].rule == "monotone"
    assert np.abs(rules["experience"].apply(frame) - frame["experience"]).max() == 0
    assert np.abs(rules["wage"].apply(frame) - frame["wage"]).max() == 0


def test_near_rules_noise_and_too_few_rows_give_none():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=500), rng.normal(size=500)
    near = pd.DataFrame({"a": a, "b": b, "c": a + b + rng.normal(0, 1e-3, 500),
                         "d": np.exp(a) + rng.normal(0, 1e-3, 500)})
    assert find_derivations(near, infer_schema(near)) == []
    tiny = survey(rows=15)
    assert find_derivations(tiny, infer_schema(tiny)) == []
    start = np.sort(rng.integers(1_600_000_000, 1_700_000_000, 300))  # sessions of 5-30 minutes, in seconds:
    sessions = pd.DataFrame({"start": start, "end": start + rng.integers(300, 1_800, 300)})  # the ends rise with
    assert find_derivations(sessions, infer_schema(sessions)) == []  # the starts, but no rule gives them


def test_shares_written_to_two_decimals_obey_their_total_and_a_sum_of_many_parts_stays_generated():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(np.round(rng.dirichlet(np.ones(3), 300) * 100, 2), columns=["white", "black", "other"])
    frame.insert(0, "population", rng.integers(1_000, 90_000, 300))  # a column no rule involves
    rules = find_derivations(frame, infer_schema(frame))
    assert len(rules) == 1 and {rules[0].column, *rules[0].sources} == {"white", "black", "other"}
    assert rules[0].describe().startswith("100 - ") and rules[0].decimals == 2
    assert np.abs(rules[0].apply(frame) - frame[rules[0].column]).max() < 0.016
    parts = pd.DataFrame(rng.integers(0, 1_000, (300, 4)), columns=list("abcd")).assign(total=lambda f: f.sum(axis=1))
    assert find_derivations(parts, infer_schema(parts)) == []  # four generated parts would carry their errors into it


@pytest.mark.parametrize("derive", [True, False])
def test_sampled_rows_obey_the_rules_in_the_columns_own_order_and_types(derive):
    frame = survey()
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100, derive_columns=derive)).fit(frame)
    rows = model.sample(300, seed=0)
    assert list(rows.columns) == list(frame.columns) and rows.dtypes.equals(frame.dtypes)
    broken = (rows["experience"] != rows["age"] - rows["schooling"] - 6).mean()
    reasons = {spec.name: spec.reason for spec in model.schema_}
    if derive:
        assert broken == 0 and reasons["experience"].startswith("derived: age - schooling - 6")
        off = np.abs(np.log(rows["wage"]) - rows["log_wage"])  # interpolated between the training wages, rounded
        assert off.max() < 0.05 and off.median() < 0.005
    else:
        assert broken > 0.5 and not reasons["experience"].startswith("derived")


def test_a_computed_share_never_leaves_the_range_its_training_values_span_and_the_total_holds():
    rng = np.random.default_rng(3)  # three vote shares summing to one, none under 5% in any constituency
    shares = rng.dirichlet([6, 5, 2], 400)
    frame = pd.DataFrame(np.round(shares[(shares > 0.05).all(axis=1)], 4), columns=["con", "lab", "lib"])
    frame["turnout"] = rng.normal(0.7, 0.05, len(frame)).round(3)
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=60)).fit(frame)
    computed = next(column for column in model.transform_.columns if column.rule is not None)
    name, (low, high) = computed.spec.name, computed.extra["seen_range"]
    rows = model.sample(2000, seed=0)
    assert len(rows) == 2000 and rows[name].between(low, high).all()  # drawn again, not clipped onto an edge
    assert np.abs(rows[["con", "lab", "lib"]].sum(axis=1) - 1).max() < 2e-4
    assert (rows[name] == low).mean() < 0.01 and (rows[name] == high).mean() < 0.01
    assert model.sample(500, seed=1).equals(model.sample(500, seed=1))
    computed.extra["seen_range"] = ["0", 1]  # as a damaged model file would give it
    with pytest.raises(GanforgeError, match=f"column '{name}' has a seen_range that is not two numbers"):
        model.sample(10, seed=0)


def matches(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """Football matches: the season a match belongs to is its date's year, less one before July."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("1990-08-01") + pd.to_timedelta(rng.integers(0, 20 * 365, rows), unit="D")
    days = days[(days.month != 6) & (days.month != 7)]  # the summer break
    return pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "season": days.year - (days.month < 7),
                         "goals": rng.poisson(1.5, len(days))})


def test_a_number_a_date_determines_is_derived_from_it():
    frame = matches()
    schema = infer_schema(frame)
    assert {s.name: s.kind for s in schema} == {"date": "datetime", "season": "integer", "goals": "categorical"}
    rules = {rule.column: rule for rule in find_derivations(frame, schema)}
    assert set(rules) == {"season"} and rules["season"].sources == ("date",)
    assert np.array_equal(rules["season"].apply(frame), frame["season"])
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100)).fit(frame)
    rows = model.sample(400, seed=1)
    dates = pd.to_datetime(rows["date"])
    inside = (dates.dt.month != 6) & (dates.dt.month != 7)  # a date in the break is between two knots
    assert (rows["season"] == dates.dt.year - (dates.dt.month < 7))[inside].mean() == 1.0
    assert inside.mean() > 0.9
    assert "derived: a monotone function of date" in {s.name: s.reason for s in model.schema_}["season"]


def ages(rows: int = 800, seed: int = 0) -> pd.DataFrame:
    """A health survey: an age group and a middle-age flag from the age, a visit count that follows nothing."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, rows)
    group = np.select([age < 35, age < 60], ["young", "middle"], "old")
    return pd.DataFrame({"age": age, "group": group, "middle": (group == "middle").astype(int),
                         "visits": rng.poisson(2, rows), "sex": rng.choice(["f", "m"], rows)})


def test_a_category_each_of_whose_levels_is_a_range_of_a_number_is_computed_from_it():
    frame = ages()
    schema = infer_schema(frame)
    rules = {rule.column: rule for rule in find_bins(frame, schema, set())}
    assert set(rules) == {"group", "middle"} and rules["group"].sources == ("age",)
    assert rules["group"].describe() == "one level for each of 3 ranges of age in every training row"
    assert (rules["group"].apply(frame) == frame["group"]).all()
    assert (rules["middle"].apply(frame) == frame["middle"]).all()  # its 0 lies below and above the 1
    noisy = frame.copy()
    noisy.loc[0, "group"] = "old" if noisy.loc[0, "group"] != "old" else "young"  # one age in two groups
    assert "group" not in {rule.column for rule in find_bins(noisy, schema, set())}
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100)).fit(frame)
    rows = model.sample(500, seed=2)
    assert (rows["group"] == np.select([rows["age"] < 35, rows["age"] < 60], ["young", "middle"], "old")).all()
    assert rows.dtypes.equals(frame.dtypes)
    assert "derived: one level for each of 3 ranges of age" in {s.name: s.reason for s in model.schema_}["group"]
    old = model.sample(200, seed=3, conditions={"group": "old", "sex": "f"})  # drawn, then filtered
    assert len(old) == 200 and (old["group"] == "old").all() and (old["age"] >= 60).all() and (old["sex"] == "f").all()
    focused = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100, focus_columns=("group",))).fit(frame)
    assert focused.transform_.columns[1].rule is None  # a column a user conditions on stays generated


@pytest.mark.parametrize("table", [survey, matches, ages], ids=["numbers", "date", "ranges"])
def test_derived_columns_survive_save_and_load(tmp_path, table):
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100)).fit(table())
    assert any(column.rule is not None for column in model.transform_.columns)
    model.save(tmp_path / "model")
    again = TabularSynthesizer.load(tmp_path / "model")
    assert again.sample(200, seed=3).equals(model.sample(200, seed=3))


def test_no_rule_reads_a_derived_column():
    rng = np.random.default_rng(0)
    d, a = rng.normal(size=300), rng.normal(size=300) * 5
    frame = pd.DataFrame({"d": d, "a": a, "b": 2 * d, "c": a + 2 * d})  # two rules sharing a column
    rules = find_derivations(frame, infer_schema(frame))
    derived = {rule.column for rule in rules}
    assert len(rules) == 2 and not derived & {source for rule in rules for source in rule.sources}


def parents(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    no_father = rng.random(rows) < 0.25
    education = np.where(no_father, 9.94, np.round(rng.normal(11, 3, rows), 1))
    wage = np.where(rng.random(rows) < 0.2, np.nan, rng.lognormal(6, 0.4, rows))
    employed = np.where(np.isnan(wage), "no", "yes")
    overtime = np.where(rng.random(rows) < 0.6, 0, rng.integers(1, 30, rows))
    return pd.DataFrame({"no_father": np.where(no_father, "yes", "no"), "father_education": education,
                         "employed": employed, "wage": wage, "overtime": overtime,
                         "group": rng.choice(list("abcdefghij"), rows)})


def test_a_level_that_fixes_a_number_pins_it_and_chance_agreement_does_not():
    frame = parents()
    frame.loc[:9, ["group", "overtime"]] = ["k", 0]  # ten rows of a group, all without overtime: chance
    pins = find_pins(frame, infer_schema(frame), set())
    assert pins["father_education"] == [["no_father", "yes", 9.94]]
    assert pins["wage"] == [["employed", "no", None]]  # missing wherever employed is no
    assert "overtime" not in pins
    frame.loc[:39, ["group", "overtime"]] = ["k", 0]  # forty such rows are not
    assert find_pins(frame, infer_schema(frame), set())["overtime"] == [["group", "k", 0]]


def test_sampled_rows_keep_the_pinned_values():
    frame = parents()
    rows = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100)).fit(frame).sample(400, seed=0)
    fatherless = rows["no_father"] == "yes"
    assert fatherless.any() and (rows.loc[fatherless, "father_education"] == 9.94).all()
    assert rows.loc[rows["employed"] == "no", "wage"].isna().all()


def test_rows_no_level_fixes_keep_the_distribution_of_such_rows():
    rng = np.random.default_rng(0)
    town = rng.choice(["port", "inland", "hills"], 900, p=[0.3, 0.4, 0.3])
    tax = np.where(town == "port", 666, rng.integers(180, 480, 900))  # every port town taxes 666
    frame = pd.DataFrame({"town": town, "tax": tax})
    transform = TableTransform.fit(frame, infer_schema(frame), TabularConfig(), rng)
    assert transform.columns[1].extra["pins"] == [["town", "port", 666]]
    scalars = np.tanh(rng.normal(size=(3000, transform.layout.n_scalars))).astype(np.float32)
    codes = rng.integers(0, 3, size=(3000, 1)).astype(np.int32)
    rows = transform.decode(scalars, codes, rng, calibrate=True)
    others = rows.loc[rows["town"] != "port", "tax"]
    assert (rows.loc[rows["town"] == "port", "tax"] == 666).all()
    assert (others == 666).mean() < 0.01 and others.between(180, 480).all()  # not the port towns' 666 again


def test_a_number_each_level_holds_a_few_values_of_is_snapped_to_them():
    rng = np.random.default_rng(1)
    schools = np.repeat(np.arange(30), 40)
    teachers = {school: rng.choice(np.arange(0, 35), 3, replace=False) for school in range(30)}
    experience = np.asarray([rng.choice(teachers[school]) for school in schools])
    frame = pd.DataFrame({"school": [f"s{school}" for school in schools], "experience": experience,
                          "score": rng.normal(500, 40, len(schools)).round()})
    schema = infer_schema(frame)
    sets = find_value_sets(frame, schema, set())
    assert list(sets) == ["experience"] and sets["experience"][0] == "school"  # scores are not a few values
    assert sorted(sets["experience"][1])[0][1] == sorted(set(experience[:40].tolist()))
    transform = TableTransform.fit(frame, schema, TabularConfig(), rng)
    assert "a few values for each level of school" in transform.columns[1].spec.reason
    codes = rng.integers(0, 30, size=(2000, 1)).astype(np.int32)
    scalars = np.tanh(rng.normal(size=(2000, transform.layout.n_scalars))).astype(np.float32)
    rows = transform.decode(scalars, codes, rng, calibrate=True)
    held = {f"s{school}": set(values.tolist()) for school, values in teachers.items()}
    assert all(value in held[school] for school, value in zip(rows["school"], rows["experience"]))
    shuffled = frame.assign(school=rng.permutation(frame["school"].to_numpy()))
    assert find_value_sets(shuffled, schema, set()) == {}  # the same values, by chance over the schools


def test_a_number_a_second_category_fixes_takes_the_value_of_its_pair_of_levels():
    # a state's unemployment rate in the year a job was lost: nine values per state, one per state and year
    rng = np.random.default_rng(2)
    rate = {(state, year): round(float(rng.uniform(3, 12)), 1) for state in range(40) for year in range(9)}
    states, years = rng.integers(0, 40, 3000), rng.integers(0, 9, 3000)
    frame = pd.DataFrame({"state": [f"st{s}" for s in states], "year": [f"y{y}" for y in years],
                          "rate": [rate[s, y] for s, y in zip(states, years)],
                          "age": rng.integers(20, 60, 3000), "sex": rng.choice(["f", "m"], 3000)})
    schema = infer_schema(frame)
    sets = find_value_sets(frame, schema, set())
    assert sets["rate"][0] in ("state", "year") and {sets["rate"][0], sets["rate"][2][0]} == {"state", "year"}
    seen = len(sets["rate"][2][1])
    assert 350 <= seen <= 360  # the pairs of two rows or more
    transform = TableTransform.fit(frame, schema, TabularConfig(), rng)
    assert f"one value for each of {seen} pairs of levels" in transform.columns[2].spec.reason
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100)).fit(frame)
    rows = model.sample(1000, seed=0)
    truth = [rate[int(s[2:]), int(y[1:])] for s, y in zip(rows["state"], rows["year"])]
    assert (rows["rate"].to_numpy() == np.asarray(truth)).mean() > 0.98
    sex_years = frame.assign(rate=[rate[s, y] + 0.1 * (x == "m") for s, y, x in zip(states, years, frame["sex"])])
    assert len(find_value_sets(sex_years, schema, set()).get("rate", [None, None])) == 2  # three keys: not found
    mixed = frame.assign(rate=np.where(rng.random(3000) < 0.05, frame["rate"] + 0.3, frame["rate"]))
    assert len(find_value_sets(mixed, schema, set()).get("rate", [None, None])) == 2  # broken in some pairs


def test_columns_that_come_in_fixed_combinations_are_sampled_in_pairs_seen_in_training(tmp_path):
    # each model has its maker: sampled rows must not pair a model with another maker
    rng = np.random.default_rng(4)
    makers = {f"model{m}": f"maker{m % 5}" for m in range(20)}
    models = rng.choice(list(makers), 600)
    frame = pd.DataFrame({"maker": [makers[m] for m in models], "model": models,
                          "year": rng.choice([1999, 2008], 600), "miles": rng.normal(20, 4, 600).round(1),
                          "drive": rng.choice(["f", "r", "4"], 600)})
    schema = infer_schema(frame)
    combinations = find_combinations(frame, schema, set())
    assert list(combinations) == ["maker"] and combinations["maker"][0] == "model"  # years and drives are free
    assert sum(n for _, _, n in combinations["maker"][1]) == 600 and len(combinations["maker"][1]) == 20
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100)).fit(frame)
    assert "comes in 20 combinations with model" in {s.name: s.reason for s in model.schema_}["maker"]
    rows = model.sample(1000, seed=0)
    assert all(makers[m] == k for k, m in zip(rows["maker"], rows["model"]))
    assert rows["maker"].nunique() == 5
    model.save(tmp_path / "model")
    assert TabularSynthesizer.load(tmp_path / "model").sample(300, seed=2).equals(model.sample(300, seed=2))
    free = frame.assign(maker=rng.permutation(frame["maker"].to_numpy()))
    assert find_combinations(free, schema, set()) == {}


def test_a_code_and_a_name_that_always_agree_are_sampled_together_even_with_two_rows_a_value():
    rng = np.random.default_rng(5)  # a senate: two senators a state, its postal code and its name on each row
    codes = [a + b for a in "ACDGIKLMNOPRSTUVW" for b in "ALKZRTEC"][:50]
    names = {code: f"State of {code.lower()}" for code in codes}
    states = np.repeat(codes, 2)
    share = dict(zip(codes, rng.normal(50, 8, 50).round(2)))  # the state's vote share: fixed by it too
    frame = pd.DataFrame({"code": states, "share": [share[c] for c in states], "state": [names[c] for c in states],
                          "vote": rng.integers(0, 2, 100)})
    schema = infer_schema(frame)
    combinations = find_combinations(frame, schema, set())  # too few rows for the shrink test; the two categories
    assert len(combinations) == 1 and {next(iter(combinations)), next(iter(combinations.values()))[0]} == {
        "code", "state"} and len(next(iter(combinations.values()))[1]) == 50
    rows = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=60)).fit(frame).sample(300, seed=0)
    assert all(names[c] == s for c, s in zip(rows["code"], rows["state"]))
    shuffled = frame.assign(state=rng.permutation(frame["state"].to_numpy()))  # chance pairs: two names a code
    assert all("state" not in (drawn, kept) for drawn, (kept, _) in find_combinations(shuffled, schema, set()).items())


def test_a_number_that_copies_another_picked_by_a_level_is_copied_after_sampling():
    # an angler's price is that of the mode chosen
    rng = np.random.default_rng(5)
    prices = pd.DataFrame({"pbeach": rng.lognormal(4, 0.5, 800).round(2),
                           "pboat": rng.lognormal(3.5, 0.5, 800).round(2),
                           "pcharter": rng.lognormal(4.5, 0.4, 800).round(2)})
    mode = rng.choice(["beach", "boat", "charter"], 800)
    frame = prices.assign(mode=mode, price=[prices.at[i, f"p{m}"] for i, m in enumerate(mode)],
                          income=rng.lognormal(8, 0.5, 800).round())
    schema = infer_schema(frame)
    selections = find_selections(frame, schema, set())
    assert list(selections) == ["price"] and selections["price"][0] == "mode"
    assert sorted(selections["price"][1]) == [["beach", "pbeach"], ["boat", "pboat"], ["charter", "pcharter"]]
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100)).fit(frame)
    assert "a copy of" in {s.name: s.reason for s in model.schema_}["price"]
    rows = model.sample(500, seed=0)
    assert all(row["price"] == row[f"p{row['mode']}"] for _, row in rows.iterrows())
    assert rows["price"].nunique() > 100
    noisy = frame.assign(price=frame["price"] * rng.normal(1, 0.01, 800))
    assert find_selections(noisy, schema, set()) == {}
