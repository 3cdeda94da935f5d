"""Key performance indicators and their values."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, PlanItem, utcnow
from tracker.models.delivery import action_kpis

if TYPE_CHECKING:
    from tracker.models.delivery import Action
    from tracker.models.people import User
    from tracker.models.plan import Commitment, Theme

kpi_commitments = Table(
    "kpi_commitments",
    Base.metadata,
    Column("kpi_id", ForeignKey("kpis.id", ondelete="CASCADE"), primary_key=True),
    Column("commitment_id", ForeignKey("commitments.id", ondelete="CASCADE"), primary_key=True),
)

kpi_themes = Table(
    "kpi_themes",
    Base.metadata,
    Column("kpi_id", ForeignKey("kpis.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True),
)


class KPI(PlanItem, Base):
    __tablename__ = "kpis"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20), default="count")
    better: Mapped[str] = mapped_column(String(10))
    frequency: Mapped[str] = mapped_column(String(20), default="quarterly")
    source: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    baseline_period: Mapped[str | None] = mapped_column(String(20))
    baseline_value: Mapped[float | None]
    targets: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    target: Mapped[float | None]
    tolerance: Mapped[float] = mapped_column(default=5.0)
    # shown on the public progress page (the plan's `public: true`)
    is_public: Mapped[bool] = mapped_column(default=False, server_default=false())

    owner: Mapped[User | None] = relationship()
    commitments: Mapped[list[Commitment]] = relationship(
        secondary=kpi_commitments, back_populates="kpis", order_by="Commitment.position"
    )
    themes: Mapped[list[Theme]] = relationship(secondary=kpi_themes, order_by="Theme.position")
    actions: Mapped[list[Action]] = relationship(
        secondary=action_kpis, back_populates="kpis", order_by="Action.position"
    )
    values: Mapped[list[KPIValue]] = relationship(
        back_populates="kpi", order_by="(KPIValue.period, KPIValue.recorded_at)"
    )

    def __repr__(self) -> str:
        return f"<KPI {self.ref}>"


class KPIValue(Base):
    """A value for a period. Append-only: a correction is a new row; the latest one counts."""

    __tablename__ = "kpi_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    value: Mapped[float]
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="entered")  # plan, entered, import
    data_source: Mapped[str] = mapped_column(Text, default="")  # where the figure comes from
    # some of the period's months are missing from the data: shown, but never measured
    provisional: Mapped[bool] = mapped_column(default=False, server_default=false())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    kpi: Mapped[KPI] = relationship(back_populates="values")
    recorded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<KPIValue {self.kpi_id} {self.period}={self.value}>"
