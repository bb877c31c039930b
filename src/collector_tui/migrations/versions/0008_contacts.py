"""contacts: phone status, source and consent; postal and e-mail addresses; third parties

A phone gets the agent's mark (`status`: valid, wrong, disconnected, dnc, unverified), where it came
from (`source`), its retirement (never deleted) and, per channel, when and how consent was given.
The old flags stay and are kept coherent with the mark by services/contacts: existing rows take
the mark their flags say (do-not-call -> dnc, not valid -> wrong). The placement address of every
debtor becomes its first postal-address row.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import collector_tui.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, collector_tui.models.UTCDateTime(timezone=True), nullable=True)


def _text(name: str, length: int, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def _common() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
    ]


def _tail() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        _instant("retired_at"),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", collector_tui.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("phone", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                server_default="placement",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "status",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                server_default="valid",
                nullable=False,
            )
        )
        batch_op.add_column(_text("status_reason", 500))
        batch_op.add_column(_instant("status_at"))
        batch_op.add_column(_instant("retired_at"))
        batch_op.add_column(_instant("call_consent_at"))
        batch_op.add_column(_text("call_consent_how", 200))
        batch_op.add_column(_instant("sms_consent_at"))
        batch_op.add_column(_text("sms_consent_how", 200))
        batch_op.add_column(_instant("dnc_at"))
        batch_op.add_column(_text("dnc_how", 200))
    phone = sa.table(
        "phone",
        sa.column("status", sa.String),
        sa.column("valid", sa.Boolean),
        sa.column("do_not_call", sa.Boolean),
    )
    op.execute(phone.update().where(phone.c.do_not_call.is_(True)).values(status="dnc"))
    op.execute(
        phone.update()
        .where(phone.c.do_not_call.is_(False), phone.c.valid.is_(False))
        .values(status="wrong")
    )

    op.create_table(
        "postaladdress",
        *_common(),
        _text("text", 500, nullable=False),
        _text("match_key", 500, nullable=False),
        _text("source", 20, nullable=False),
        _text("status", 16, nullable=False),
        _text("status_reason", 500),
        _instant("status_at"),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        *_tail(),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtor.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_postaladdress_debtor_id"), "postaladdress", ["debtor_id"], unique=False
    )
    op.create_table(
        "emailaddress",
        *_common(),
        _text("address", 320, nullable=False),
        _text("source", 20, nullable=False),
        _text("status", 16, nullable=False),
        _text("status_reason", 500),
        _instant("status_at"),
        sa.Column("opt_in", sa.Boolean(), nullable=False),
        _instant("opt_in_at"),
        _text("opt_in_how", 200),
        *_tail(),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtor.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_emailaddress_debtor_id"), "emailaddress", ["debtor_id"], unique=False)
    op.create_table(
        "thirdparty",
        *_common(),
        _text("name", 300, nullable=False),
        _text("relation", 20, nullable=False),
        sa.Column("phone_id", sa.Uuid(), nullable=True),
        _text("source", 20, nullable=False),
        _text("note", 500),
        _instant("objected_at"),
        _text("objected_how", 200),
        _instant("recontact_requested_at"),
        *_tail(),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtor.id"]),
        sa.ForeignKeyConstraint(["phone_id"], ["phone.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_thirdparty_debtor_id"), "thirdparty", ["debtor_id"], unique=False)
    op.create_index(op.f("ix_thirdparty_phone_id"), "thirdparty", ["phone_id"], unique=False)
    _copy_placement_addresses()


def _copy_placement_addresses() -> None:
    """Each debtor's placement address becomes a postal-address row (source placement)."""
    import re
    import uuid
    from datetime import UTC, datetime

    bind = op.get_bind()
    debtor = sa.table("debtor", sa.column("id", sa.Uuid()), sa.column("address", sa.String))
    address = sa.table(
        "postaladdress",
        sa.column("id", sa.Uuid()),
        sa.column("debtor_id", sa.Uuid()),
        sa.column("text", sa.String),
        sa.column("match_key", sa.String),
        sa.column("source", sa.String),
        sa.column("status", sa.String),
        sa.column("is_primary", sa.Boolean),
        sa.column("created_at", collector_tui.models.UTCDateTime(timezone=True)),
        sa.column("updated_at", collector_tui.models.UTCDateTime(timezone=True)),
        sa.column("version", sa.Integer),
    )
    now = datetime.now(UTC)
    rows = bind.execute(
        sa.select(debtor.c.id, debtor.c.address).where(debtor.c.address.is_not(None))
    ).all()
    batch: list[dict[str, object]] = []
    for debtor_id, text in rows:
        if not text or not text.strip():
            continue
        batch.append(
            {
                "id": uuid.uuid4(),
                "debtor_id": debtor_id,
                "text": text,
                "match_key": re.sub(r"\s+", " ", text).strip().casefold()[:500],
                "source": "placement",
                "status": "valid",
                "is_primary": True,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        if len(batch) >= 5000:
            bind.execute(address.insert(), batch)
            batch = []
    if batch:
        bind.execute(address.insert(), batch)


def downgrade() -> None:
    op.drop_index(op.f("ix_thirdparty_phone_id"), table_name="thirdparty")
    op.drop_index(op.f("ix_thirdparty_debtor_id"), table_name="thirdparty")
    op.drop_table("thirdparty")
    op.drop_index(op.f("ix_emailaddress_debtor_id"), table_name="emailaddress")
    op.drop_table("emailaddress")
    op.drop_index(op.f("ix_postaladdress_debtor_id"), table_name="postaladdress")
    op.drop_table("postaladdress")
    with op.batch_alter_table("phone", schema=None) as batch_op:
        for name in (
            "dnc_how",
            "dnc_at",
            "sms_consent_how",
            "sms_consent_at",
            "call_consent_how",
            "call_consent_at",
            "retired_at",
            "status_at",
            "status_reason",
            "status",
            "source",
        ):
            batch_op.drop_column(name)
