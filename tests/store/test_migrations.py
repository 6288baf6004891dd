"""The store's migrations: they make the models' schema, adopt old stores, gate every process.

``test_the_migrations_make_exactly_the_models_schema`` is what fails when a table model changes
without a migration (docs/operations.md, "Store migrations").
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pg_support import postgres_database
from running_platform import BORDERFLOW, Platform
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from tests_support import free_port

from store.db import make_engine, table_metadata
from store.migrate import BASELINE, StoreNotReady, check_schema, head_revision, upgrade

FIXTURES = Path(__file__).parent.parent / "fixtures" / "store"
API_SETTINGS = ("EASYPOST_WEBHOOK_SECRET", "BROKER_WEBHOOK_SECRET")
WORKER_SETTINGS = ("ODOO_PASSWORD", "TMS_API_KEY", "CARRIER_API_KEY", "BROKER_API_KEY")
REQUIRED_SETTINGS = {f"BORDERFLOW_{name}": "s" for name in (*API_SETTINGS, *WORKER_SETTINGS)}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (PostgreSQL: one of this test's own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from postgres_database()


def create_all_store(url: str) -> None:
    """Make the store the way releases before migrations did (their frozen DDL)."""
    engine = make_engine(url)
    script = (FIXTURES / f"create_all_{engine.dialect.name}.sql").read_text()
    try:
        with engine.begin() as connection:
            driver = connection.connection.driver_connection
            if engine.dialect.name == "sqlite":
                driver.executescript(script)  # type: ignore[union-attr]
            else:
                driver.execute(script)  # type: ignore[union-attr]
            connection.execute(
                text("INSERT INTO tracking_link VALUES ('easypost', 'EZ1', 'shipment-S1')")
            )
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def borderflow(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BORDERFLOW, *args], env=clean_env(url), cwd=cwd, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def clean_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
    return {**env, "BORDERFLOW_DATABASE_URL": url, "BORDERFLOW_DATA_DIR": "/nonexistent"}


def test_the_migrations_make_exactly_the_models_schema(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        check_schema(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, table_metadata())
    finally:
        engine.dispose()
    assert differences == [], (
        "the table models differ from what the migrations make: add a migration "
        "(`alembic revision --autogenerate`, docs/operations.md)"
    )


def test_upgrading_a_store_at_head_changes_nothing(empty_url: str) -> None:
    first = upgrade(empty_url)
    assert first[-1].endswith(f"upgraded from none to {head_revision()}")
    before = tables(empty_url)
    assert upgrade(empty_url) == [
        f"the store at {make_url(empty_url).render_as_string()} is at {head_revision()}: up to date"
    ]
    assert tables(empty_url) == before


def test_db_upgrade_adopts_a_store_made_by_create_all(empty_url: str, tmp_path: Path) -> None:
    create_all_store(empty_url)
    adopted = borderflow(empty_url, "db", "upgrade", cwd=tmp_path)
    assert adopted.returncode == 0, adopted.stderr
    shown = make_url(empty_url).render_as_string()
    assert adopted.stdout.splitlines()[0] == (
        f"the store at {shown} was made before migrations; its tables match {BASELINE}: stamped it"
    )
    assert adopted.stderr == ""
    current = borderflow(empty_url, "db", "current", cwd=tmp_path)
    assert current.stdout == f"{head_revision()} (head)\n"
    again = borderflow(empty_url, "db", "upgrade", cwd=tmp_path)
    assert again.stdout == f"the store at {shown} is at {head_revision()}: up to date\n"
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT shipment_id FROM tracking_link")).scalars()
        assert list(kept) == ["shipment-S1"]
    engine.dispose()


def test_db_upgrade_refuses_an_old_store_that_does_not_match(
    empty_url: str, tmp_path: Path
) -> None:
    create_all_store(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE inbox_message DROP COLUMN reason"))
    engine.dispose()
    refused = borderflow(empty_url, "db", "upgrade", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == (
        f"borderflow db upgrade: the store at {make_url(empty_url).render_as_string()} has "
        f"tables but no revision, and they don't match {BASELINE} (table inbox_message "
        "differs): migrate it by hand or use a new store\n"
    )
    assert "alembic_version" not in tables(empty_url)


def test_a_store_of_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999_future'"))
    message = (
        f"the store at {url} is at revision 0999_future, unknown to this release (it needs "
        f"{head_revision()}): a newer release migrated it"
    )
    with pytest.raises(StoreNotReady) as checked:
        check_schema(engine)
    assert str(checked.value) == message
    with pytest.raises(StoreNotReady) as upgraded:
        upgrade(url)
    assert str(upgraded.value) == message
    engine.dispose()


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        ([sys.executable, "-m", "api"], "api"),
        ([sys.executable, "-m", "workers"], "worker"),
        ([BORDERFLOW, "codec-server"], "codec-server"),
        ([BORDERFLOW, "token", "list"], "token list"),
    ],
)
def test_a_process_refuses_an_unmigrated_store_in_one_line(
    argv: list[str], name: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {
        **clean_env(url),
        # Nothing answers here: the check comes before any connection to Temporal.
        "BORDERFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        **REQUIRED_SETTINGS,
    }
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert (done.returncode, done.stderr) == (2, (
        f"borderflow {name}: the store at {url} is at revision none, this release needs "
        f"{head_revision()}: run `borderflow db upgrade`\n"
    ))  # fmt: skip
    assert done.stdout == ""


def test_the_refusal_never_shows_the_password(tmp_path: Path) -> None:
    for url in postgres_database():
        with_password = make_url(url).set(password="s3cret-pw")  # trust auth ignores it
        refused = borderflow(
            with_password.render_as_string(hide_password=False), "token", "list", cwd=tmp_path
        )
        assert refused.returncode == 2, refused.stderr
        assert "s3cret-pw" not in refused.stderr
        assert f"the store at {with_password.render_as_string()} is at" in refused.stderr


def test_borderflow_up_refuses_an_old_store_that_does_not_match(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'borderflow.db'}"
    create_all_store(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE tracking_link"))
    engine.dispose()
    platform = Platform(tmp_path, demo_shipments=0, ports=Platform.free_ports())
    assert platform.process.wait(timeout=60) == 1
    platform.stop()
    assert platform.lines[-1] == (
        f"borderflow: the store at {url} has tables but no revision, and they don't match "
        f"{BASELINE} (no table tracking_link): migrate it by hand or use a new store"
    )
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_borderflow_up_adopts_an_old_store_and_starts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'borderflow.db'}"
    create_all_store(url)
    platform = Platform(tmp_path, demo_shipments=0, ports=Platform.free_ports())
    try:
        platform.wait_for("platform ready", timeout_s=120)
    finally:
        platform.stop()
    assert f"the store at {url} was made before migrations; its tables match {BASELINE}: " \
        "stamped it" in platform.lines  # fmt: skip
