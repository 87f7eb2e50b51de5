import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnbench.reports.pareto import pareto_front


def test_pareto_hand_made():
    df = pd.DataFrame({
        "case": ["a", "b", "c", "d", "e", "f", "g"],
        "time": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, None],
        "acc": [0.90, 0.95, 0.93, 0.95, 0.97, 0.96, 0.99],
    })
    # c (2, .93) is beaten by b (2, .95); d by b (same accuracy, slower); f by e (faster and
    # more accurate); g has no time and is left out.
    front = pareto_front(df, "time", "acc")
    assert list(front["case"]) == ["a", "b", "e"]


def test_pareto_duplicates_and_empty():
    df = pd.DataFrame({"t": [1.0, 1.0, 2.0], "a": [0.9, 0.9, 0.8]})
    assert list(pareto_front(df, "t", "a").index) == [0, 1]
    assert pareto_front(df.iloc[:0], "t", "a").empty
    single = pd.DataFrame({"t": [3.0], "a": [0.5]})
    assert len(pareto_front(single, "t", "a")) == 1


def _dominates(p, q):
    return p[0] <= q[0] and p[1] >= q[1] and (p[0] < q[0] or p[1] > q[1])


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=1, max_size=25))
def test_pareto_property(points):
    df = pd.DataFrame(points, columns=["x", "y"])
    front = set(pareto_front(df, "x", "y").index)
    for i, p in enumerate(points):
        dominated = any(_dominates(q, p) for q in points)
        assert (i in front) == (not dominated)
