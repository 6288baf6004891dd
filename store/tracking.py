"""Which shipment a carrier tracking number belongs to.

Carrier tracking webhooks name a tracking number, not our shipment; the booking step records
the link here and the webhook ingress reads it to route each event to its workflow.
"""

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select


class TrackingLink(SQLModel, table=True):
    __tablename__ = "tracking_link"

    carrier: str = Field(primary_key=True, max_length=64)
    tracking_number: str = Field(primary_key=True, max_length=128)
    shipment_id: str = Field(index=True, max_length=128)


def link_tracking(engine: Engine, carrier: str, tracking_number: str, shipment_id: str) -> None:
    """Record (or confirm) the link. Idempotent: a repeat with the same shipment is a no-op.

    Raises ``ValueError`` when the tracking number already belongs to another shipment.
    """
    try:
        with Session(engine) as session:
            session.add(
                TrackingLink(
                    carrier=carrier, tracking_number=tracking_number, shipment_id=shipment_id
                )
            )
            session.commit()
    except IntegrityError:
        owner = shipment_for_tracking(engine, carrier, tracking_number)
        if owner != shipment_id:
            raise ValueError(
                f"{carrier} tracking number {tracking_number} already belongs to {owner}"
            ) from None


def shipment_for_tracking(engine: Engine, carrier: str, tracking_number: str) -> str | None:
    with Session(engine) as session:
        link = session.get(TrackingLink, (carrier, tracking_number))
        return link.shipment_id if link else None


def links_for_tracking(engine: Engine, tracking_number: str) -> dict[str, str]:
    """Every carrier that has this tracking number linked, with the shipment it belongs to."""
    with Session(engine) as session:
        links = session.exec(
            select(TrackingLink).where(TrackingLink.tracking_number == tracking_number)
        )
        return {link.carrier: link.shipment_id for link in links}


def links_for_shipment(engine: Engine, shipment_id: str) -> dict[str, str]:
    """Every tracking number linked to ``shipment_id``, with the carrier that issued it."""
    with Session(engine) as session:
        links = session.exec(select(TrackingLink).where(TrackingLink.shipment_id == shipment_id))
        return {link.tracking_number: link.carrier for link in links}
