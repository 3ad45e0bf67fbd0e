"""Database tables of the evidence store (SQLAlchemy Core). Created and changed only by the Alembic
migrations in ``migrations/``; this module mirrors them for queries."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    # Only what is hashed is stored: time, actor and action live in the body, so there is no second
    # copy that could disagree with it, and verification reads four columns.
    Column("body", LargeBinary, nullable=False),  # UTF-8 canonical JSON of {seq, ts, actor, action, payload}: the hashed bytes
    Column("prev_hash", LargeBinary(32), nullable=False),  # raw SHA-256 digests: no hex round trips when verifying
    Column("entry_hash", LargeBinary(32), nullable=False, unique=True),
)

evidence_blob = Table(
    "evidence_blob",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), ForeignKey("evidence_blob.sha256"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("collected_at", DateTime(timezone=True), nullable=False),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("source_kind", String(20), nullable=False),  # upload | check | collector | acknowledgement | review | assessment (store.SOURCE_KINDS)
    Column("source_id", String(120), nullable=False, default=""),
    Column("source_version", String(60), nullable=False, default=""),
    Column("added_by", String(200), nullable=False),
    Column("audit_seq", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("audit_log.seq"), nullable=False, unique=True),
)

evidence_control = Table(
    "evidence_control",
    metadata,
    Column("evidence_id", Integer, ForeignKey("evidence.id"), nullable=False),
    Column("control_id", String(20), nullable=False, index=True),
    UniqueConstraint("evidence_id", "control_id"),
)
