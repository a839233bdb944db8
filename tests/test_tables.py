"""Table queries shared by claims and figures."""

import numpy as np
import pandas as pd
import pytest

from relurepro import tables


@pytest.fixture
def runs():
    return pd.DataFrame(
        {
            "experiment": "E1",
            "point": ["a"] * 6 + ["b"] * 2,
            "member": [0, 0, 0, 1, 1, 1, 0, 0],
            "seed": [0, 0, 0, 1, 1, 1, 2, 2],
            "step": [0, 1, 2, 0, 1, 2, 0, 1],
            "metric": "loss",
            "value": [3.0, 2.0, np.nan, 5.0, 4.0, 1.0, 7.0, 6.0],
        }
    )


def test_select_and_missing_labels(runs):
    assert len(tables.select(runs, point="a", member=[0, 1])) == 6
    assert tables.select(runs, role="relu").empty  # a label the table lacks selects nothing


def test_series_final_and_errors(runs):
    x, y = tables.series(runs, "loss", point="b", member=0)
    assert x.tolist() == [0, 1] and y.tolist() == [7.0, 6.0]
    assert tables.final(runs, point="a", member=1) == 1.0
    with pytest.raises(LookupError, match="accuracy"):
        tables.series(runs, "accuracy", point="a")


def test_per_member_keeps_a_diverged_final_value(runs):
    last = tables.per_member(runs, "loss", "last").set_index(["point", "member"])["value"]
    assert np.isnan(last[("a", 0)]) and last[("a", 1)] == 1.0 and last[("b", 0)] == 6.0
    assert tables.per_member(runs, "loss", "min")["value"].tolist() == [2.0, 1.0, 6.0]
    assert tables.n_seeds(runs, point="a") == 2


def test_vector_metric_at_last_step():
    df = pd.DataFrame({"metric": "sv", "step": [0, 0, 5, 5], "coord": [1, 0, 1, 0], "value": [9.0, 8.0, 2.0, 3.0]})
    coord, value = tables.vector(df, "sv")
    assert coord.tolist() == [0, 1] and value.tolist() == [3.0, 2.0]
