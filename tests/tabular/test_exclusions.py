"""Pairs of category levels never seen together: found where chance would have filled them, never sampled,
kept through save/load."""

import numpy as np
import pandas as pd
import pytest
import torch

from ganforge import GanforgeError
from ganforge.tabular.exclusions import Exclusion, find_exclusions, repair
from ganforge.tabular.networks import Blocks
from ganforge.tabular.synthesizer import TabularSynthesizer
from ganforge.tabular.transform import Layout
from tests.conftest import TINY


def design(rows: int = 900, seed: int = 0) -> pd.DataFrame:
    """A choice design: sports cars are never electric and trucks never small, though both levels are common."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["sports", "truck", "van"], rows)
    fuel = np.where(kind == "sports", "petrol", rng.choice(["petrol", "electric"], rows))
    size = np.where(kind == "truck", rng.choice(["medium", "large"], rows),
                    rng.choice(["small", "medium", "large"], rows))
    price = rng.normal(30, 5, rows).round(1) + (kind == "sports") * 10
    return pd.DataFrame({"kind": kind, "fuel": fuel, "size": size, "price": price})


def test_empty_cells_that_chance_would_fill_are_found_and_rare_ones_are_not():
    layout = Layout(0, (3, 2, 3), (0, 1, 2))
    rng = np.random.default_rng(0)
    kind = rng.integers(0, 3, 900)
    fuel = np.where(kind == 0, 0, rng.integers(0, 2, 900))
    third = rng.integers(0, 3, 900)
    third[(kind == 1) & (third == 2)] = 0  # 100 expected rows: excluded
    found = {(e.first, e.second): e for e in find_exclusions(np.stack([kind, fuel, third], 1), layout)}
    assert set(found) == {(0, 1), (0, 2)}
    assert found[0, 1].cells.tolist() == [[False, True], [False, False], [False, False]]
    assert found[0, 2].cells.sum() == 1 and found[0, 2].cells[1, 2]

    small = np.stack([kind, fuel, third], 1)[:60]  # the same design, but 60 rows: ten expected rows are chance
    assert all(e.cells.sum() <= 1 for e in find_exclusions(small, layout))
    rare = np.stack([kind, rng.integers(0, 2, 900), np.where(rng.random(900) < 0.005, 2, rng.integers(0, 2, 900))], 1)
    assert find_exclusions(rare, layout) == []  # a level of 5 rows missing beside one code: chance


def test_repair_draws_the_later_column_again_among_allowed_codes_only():
    layout = Layout(0, (3, 2), (0, 1))
    blocks = Blocks(layout)
    exclusion = Exclusion(0, 1, np.array([[False, True], [False, False], [False, False]]))
    codes = torch.tensor([[0, 1], [0, 0], [1, 1], [2, 0]] * 50)
    logits = torch.zeros(len(codes), 5)
    repaired = repair(codes, logits, [exclusion], blocks, torch.Generator().manual_seed(0))
    assert not ((repaired[:, 0] == 0) & (repaired[:, 1] == 1)).any()
    unchanged = ~((codes[:, 0] == 0) & (codes[:, 1] == 1))
    assert torch.equal(repaired[unchanged], codes[unchanged])
    again = repair(codes, logits, [exclusion], blocks, torch.Generator().manual_seed(0))
    assert torch.equal(again, repaired)
    every = Exclusion(0, 1, np.array([[True, True], [False, False], [False, False]]))  # code 0 allows nothing
    assert torch.equal(repair(codes, logits, [every], blocks)[:, 1][codes[:, 0] == 0], codes[:, 1][codes[:, 0] == 0])


def test_sampled_rows_never_hold_a_pair_of_levels_no_training_row_holds(tmp_path):
    table = design()
    settings = {**TINY, "epochs": 4}
    model = TabularSynthesizer(**settings).fit(table)
    assert "exclusions" in model.training_ and model.training_["exclusions"]["column_pairs"] >= 2
    loose = TabularSynthesizer(**settings, exclude_unseen_pairs=False).fit(table)

    def broken(frame: pd.DataFrame) -> float:
        return float((((frame["kind"] == "sports") & (frame["fuel"] == "electric"))
                      | ((frame["kind"] == "truck") & (frame["size"] == "small"))).mean())

    assert broken(loose.sample(2000, seed=0)) > 0.02  # a briefly trained generator only makes them rare
    assert broken(model.sample(2000, seed=0)) == 0.0
    model.save(tmp_path / "m")
    loaded = TabularSynthesizer.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.sample(500, seed=3), model.sample(500, seed=3))


def test_a_model_file_whose_exclusions_do_not_fit_its_columns_is_refused(tmp_path):
    import json

    model = TabularSynthesizer(**{**TINY, "epochs": 1}).fit(design(300))
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["exclusions"][0]["cells"] = [[7, 7]]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(GanforgeError, match="excluded level pairs do not match the columns"):
        TabularSynthesizer.load(tmp_path / "m")
