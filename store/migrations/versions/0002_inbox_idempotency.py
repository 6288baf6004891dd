"""Idempotency-key reservations; the inbox's delivery history and its ``late`` state.

Revision ID: 0002_inbox_idempotency
Revises: 0001_baseline
Create Date: 2026-12-03

``idempotent_response`` becomes a reservation made before the work (``store/idempotency.py``):
``state`` (``in_flight`` | ``finished``), ``holder``, ``finished_at``; ``status`` and ``body``
are empty while in flight, and a check constraint refuses a finished record without them.
Existing records are finished responses.

``inbox_message`` keeps the history of its deliveries (``store/inbox.py``): ``last_outcome``,
``delivered_at``, ``deliveries``, ``replays``, ``replayed_at``. Existing delivered messages
get ``delivered_at`` = their last update and one delivery; every attempted or finally stored
message gets its state as ``last_outcome``.

Portable between SQLite (batch mode: the table is copied) and PostgreSQL; new NOT NULL
columns are filled through a server default, which is then dropped (the models have none).
The downgrade drops reservations still in flight and turns ``late`` messages into dead ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_inbox_idempotency"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINISHED_HAS_RESPONSE = "ck_idempotent_finished_has_response"


def upgrade() -> None:
    with op.batch_alter_table("idempotent_response") as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="finished")
        )
        batch_op.add_column(sa.Column("holder", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("status", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("body", existing_type=sa.String(), nullable=True)
    op.execute("UPDATE idempotent_response SET finished_at = created_at")
    with op.batch_alter_table("idempotent_response") as batch_op:
        batch_op.alter_column("state", existing_type=sa.String(length=16), server_default=None)
        batch_op.create_check_constraint(
            FINISHED_HAS_RESPONSE,
            "state = 'in_flight' OR (status IS NOT NULL AND body IS NOT NULL)",
        )

    with op.batch_alter_table("inbox_message") as batch_op:
        batch_op.add_column(sa.Column("last_outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("deliveries", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("replays", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE inbox_message SET delivered_at = updated_at, deliveries = 1 "
        "WHERE state = 'delivered'"
    )
    op.execute(
        "UPDATE inbox_message SET last_outcome = state WHERE attempts > 0 OR state <> 'received'"
    )
    with op.batch_alter_table("inbox_message") as batch_op:
        batch_op.alter_column("deliveries", existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column("replays", existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    op.execute("UPDATE inbox_message SET state = 'dead' WHERE state = 'late'")
    with op.batch_alter_table("inbox_message") as batch_op:
        batch_op.drop_column("replayed_at")
        batch_op.drop_column("replays")
        batch_op.drop_column("deliveries")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("last_outcome")

    op.execute("DELETE FROM idempotent_response WHERE state = 'in_flight'")
    with op.batch_alter_table("idempotent_response") as batch_op:
        batch_op.drop_constraint(FINISHED_HAS_RESPONSE, type_="check")
        batch_op.alter_column("body", existing_type=sa.String(), nullable=False)
        batch_op.alter_column("status", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("finished_at")
        batch_op.drop_column("holder")
        batch_op.drop_column("state")
