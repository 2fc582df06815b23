# ruff: noqa: S608 -- SQL here is assembled from model metadata and constants only.
"""The benchmark database: created, recognised and dropped by the bench alone.

A database counts as a bench database when it holds the `bench_dataset` table,
which the bench creates right after its own CREATE DATABASE. The bench creates a
database that does not exist, and reuses or drops only one that holds that
table: a DATABASE_URL that points at any other database by mistake, even an
empty one waiting for its first migrate, makes it stop and touch nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
from django.conf import settings
from django.db import connection
from psycopg2 import sql

MARKER_TABLE = "bench_dataset"


class BenchDatabaseError(RuntimeError):
    """The database in DATABASE_URL cannot be used for the benchmark."""


@dataclass(frozen=True)
class Dataset:
    """What the marker row says about the data set in the database."""

    size: int
    seed: int
    generator: int
    schema: str
    generate_s: float
    generated_at: str


def _params(dbname: str) -> dict[str, Any]:
    db = settings.DATABASES["default"]
    params: dict[str, Any] = {"dbname": dbname}
    for key, name in (
        ("host", "HOST"),
        ("port", "PORT"),
        ("user", "USER"),
        ("password", "PASSWORD"),
    ):
        if db.get(name):
            params[key] = db[name]
    return params


def database_name() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise BenchDatabaseError(
            "The benchmark runs on PostgreSQL only: set DATABASE_URL to "
            "postgres://USER@HOST:PORT/unportal_bench."
        )
    return str(db["NAME"])


def describe() -> str:
    """host:port/name, for the report (never the password)."""
    db = settings.DATABASES["default"]
    return f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


@contextmanager
def _cursor(dbname: str) -> Iterator[Any]:
    """An autocommit cursor on a connection of its own, closed afterwards."""
    conn = psycopg2.connect(**_params(dbname))
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def _exists(name: str) -> bool:
    with _cursor("postgres") as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def _is_bench(name: str) -> bool:
    with _cursor(name) as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [MARKER_TABLE])
        return bool(cursor.fetchone()[0])


def _not_ours(name: str) -> BenchDatabaseError:
    return BenchDatabaseError(
        f"{describe()} exists and has no {MARKER_TABLE} table, so the bench did not "
        "create it and will not touch it. Point DATABASE_URL at a database that "
        f"does not exist yet (the bench creates it; default unportal_bench), or "
        f"drop {name} yourself if it is a bench database after all."
    )


def _create(name: str) -> None:
    with _cursor("postgres") as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _create_marker(name)


def _create_marker(name: str) -> None:
    with _cursor(name) as cursor:
        cursor.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (
                size integer NOT NULL,
                seed integer NOT NULL,
                generator integer NOT NULL,
                generate_s double precision NOT NULL,
                generated_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        cursor.execute(
            f"ALTER TABLE {MARKER_TABLE} "
            "ADD COLUMN IF NOT EXISTS schema text NOT NULL DEFAULT ''"
        )


def drop_database() -> None:
    """Drop the bench database; refuses any database the bench did not create."""
    name = database_name()
    connection.close()
    if not _exists(name):
        return
    if not _is_bench(name):
        raise _not_ours(name)
    with _cursor("postgres") as cursor:
        # FORCE ends leftover sessions of the bench itself (e.g. a killed worker).
        cursor.execute(
            sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
        )


def ensure_database() -> None:
    """Create the bench database if it is missing; check it is ours if not."""
    name = database_name()
    if not _exists(name):
        _create(name)
        return
    if not _is_bench(name):
        raise _not_ours(name)
    # Brings the marker table of an older bench up to date.
    _create_marker(name)


def read_dataset() -> Dataset | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT size, seed, generator, schema, generate_s,
                to_char(generated_at, 'YYYY-MM-DD HH24:MI TZ')
            FROM {MARKER_TABLE} ORDER BY generated_at DESC LIMIT 1
            """
        )
        row = cursor.fetchone()
    return Dataset(*row) if row else None


def write_dataset(cursor: Any, dataset: Dataset) -> None:
    cursor.execute(f"DELETE FROM {MARKER_TABLE}")
    cursor.execute(
        f"INSERT INTO {MARKER_TABLE} (size, seed, generator, schema, generate_s) "
        "VALUES (%s, %s, %s, %s, %s)",
        [
            dataset.size,
            dataset.seed,
            dataset.generator,
            dataset.schema,
            dataset.generate_s,
        ],
    )


def schema_fingerprint() -> str:
    """A hash of the project's migrations: a data set loaded under other
    migrations (say, one edited in place before it was committed) is rebuilt
    rather than reused with a schema migrate cannot bring up to date."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for path in sorted(root.glob("*/migrations/*.py")):
        if ".venv" in path.parts:
            continue
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
