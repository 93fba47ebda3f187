"""Shared fixtures for every test layer.

``pg_url``: a fresh, empty PostgreSQL database per test, created through the admin URL in the environment
variable ``RANK_WIDGET_PG_URL`` and dropped afterwards. Without that variable the test is skipped locally, but
fails when ``CI`` is set: CI must run the PostgreSQL layer.

``store_target``: parametrised over a SQLite file and PostgreSQL, so one store test runs on both engines.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ENV = "RANK_WIDGET_PG_URL"


def _admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    msg = (
        f"PostgreSQL tests need {PG_ENV}, an admin URL such as "
        f"postgresql://postgres@127.0.0.1:55432/postgres (see docs/storage.md)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {PG_ENV} is not: {msg}")
    pytest.skip(msg)


def _conninfo(url: str) -> str:
    # psycopg wants a libpq URL; accept the SQLAlchemy spelling too.
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new empty database (dropped after the test)."""
    admin = _admin_url()
    import psycopg
    from psycopg import sql
    from sqlalchemy import make_url

    name = f"rw_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_conninfo(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(_conninfo(admin)).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(_conninfo(admin), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An ``open_store`` target on a fresh store: a SQLite file path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "labels.sqlite")
    return str(request.getfixturevalue("pg_url"))
