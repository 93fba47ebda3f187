"""The column decoders behind Store.labels(): fast paths give exactly what the general parsers give."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from rank_widget.store.columns import NAT, ints, loads, times


def general(texts: list[str]) -> np.ndarray:
    """What labels() did before the fixed-width parser: pd.to_datetime on the texts, NULL -> NaT."""
    parsed = pd.to_datetime(pd.Series([t or None for t in texts], dtype=object), utc=True, format="ISO8601")
    return np.asarray(parsed.dt.as_unit("us").to_numpy(dtype="datetime64[us]").view(np.int64))


def iso(value: datetime) -> str:
    return datetime.isoformat(value, timespec="microseconds")  # what the store writes


def test_times_fixed_width_matches_to_datetime() -> None:
    rng = np.random.default_rng(0)
    # pd.to_datetime (the reference) works in nanoseconds on pandas 2.x: stay inside that range for it
    base = datetime(1678, 1, 1, tzinfo=timezone.utc)
    last = datetime(2261, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc)
    span = (last - base) // timedelta(microseconds=1)
    values = [base + timedelta(microseconds=int(x)) for x in rng.integers(0, span, size=5_000)]
    values += [
        datetime(y, m, d, tzinfo=timezone.utc)
        for y, m, d in [
            (2024, 2, 29),
            (2000, 2, 29),
            (1970, 1, 1),
            (1969, 12, 31),
            (2026, 12, 31),
            (2261, 12, 31),
        ]
    ]
    texts = [iso(v) for v in values]
    got = times(",".join(texts), len(texts))
    np.testing.assert_array_equal(got, general(texts))
    assert got[-4] == 0 and got[-3] == -86_400_000_000  # the epoch, a day before it


def test_times_fixed_width_covers_years_1_to_9999() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    values = [
        datetime(1, 1, 1, tzinfo=timezone.utc),
        datetime(1583, 10, 15, 12, tzinfo=timezone.utc),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc),
    ]
    got = times(",".join(iso(v) for v in values), len(values))
    assert got.tolist() == [(v - epoch) // timedelta(microseconds=1) for v in values]


def test_times_with_nulls_or_other_texts_take_the_general_path() -> None:
    texts = [
        iso(datetime(2026, 3, 1, 9, tzinfo=timezone.utc)),
        "",
        "2026-03-01T10:00:00Z",
        "2026-03-01 11:30:00.5+01:00",
    ]
    got = times(",".join(texts), len(texts))
    np.testing.assert_array_equal(got, general(texts))
    assert got[1] == NAT
    assert times("", 0).shape == (0,)


def test_times_rejects_an_impossible_date_like_to_datetime() -> None:
    bad = "2026-02-30T09:00:00.000000+00:00"  # fixed width, but no such day: not silently shifted
    with pytest.raises(ValueError):
        general([bad])
    with pytest.raises(ValueError):
        times(bad, 1)


def test_ints_and_loads() -> None:
    np.testing.assert_array_equal(ints("[1,-1,300]"), [1, -1, 300])
    np.testing.assert_array_equal(ints("[1, 2, 3]"), [1, 2, 3])  # PostgreSQL's json_agg spacing
    assert ints("[]").shape == (0,) and ints("[]").dtype == np.int64
    assert loads('[["r1"],["r2","r3"]]') == [["r1"], ["r2", "r3"]]
    assert math.isnan(loads("[NaN]")[0])  # Python's json writes NaN; orjson refuses it, json reads it
