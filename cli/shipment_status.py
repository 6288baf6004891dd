"""``borderflow shipments show``: a shipment's status (``GET /v1/shipments/{id}``) in sections.

Guarantees: the first line is ``<shipment id>  order <order ref>  stage <stage>``; then come,
each under its own heading and each present even when empty (``none``): Stage (carrier,
service level, lane, promised date, ETA, exception or rejection, stages reached), SLA clocks
(each clock's level, deadline and when it was met), Customs declarations, Packages, Charges,
Documents and References. Only what the status JSON holds is printed; a field the API does not
send is left out, never invented. Every timestamp is printed by ``cli.render.moment``.
"""

from collections.abc import Callable, Sequence
from typing import Any

from cli.render import given, moment, table

__all__ = ["status_text"]

NONE = "  none"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _rows(headers: list[str], rows: Sequence[Sequence[object]]) -> str:
    return _indent(table(headers, rows)) if rows else NONE


def _stage(status: dict[str, Any], utc: bool) -> str:
    shipment = status.get("shipment") or {}
    lane = None
    if shipment.get("origin") and shipment.get("destination"):
        lane = f"{shipment['origin']['country']}-{shipment['destination']['country']}"
    facts = given(carrier=status.get("carrier"), service=shipment.get("service_level"),
                  lane=lane, transport=status.get("transport_status"),
                  promised=status.get("promised_date") and moment(status["promised_date"], utc),
                  eta=status.get("eta") and moment(status["eta"], utc),
                  exception=status.get("exception"), rejected=status.get("rejection"))  # fmt: skip
    if status.get("sla_breached"):
        facts["sla"] = "BREACHED"
    lines = [f"  {key:<12} {value}" for key, value in facts.items()]
    lines += [f"  {moment(r['at'], utc)}  {r['stage']}" for r in status.get("stages", [])]
    return "\n".join(lines) or NONE


def _sla(status: dict[str, Any], utc: bool) -> str:
    rows = [(c["clock"], c.get("level"), moment(c["deadline"], utc), moment(c.get("met_at"), utc))
            for c in status.get("sla", [])]  # fmt: skip
    return _rows(["CLOCK", "LEVEL", "DEADLINE", "MET"], rows)


def _customs(status: dict[str, Any], utc: bool) -> str:
    rows = [(d["direction"], d["country"], d["status"], d.get("mrn"), d.get("hold_reason"),
             moment(d.get("updated_at"), utc))
            for d in status.get("customs", [])]  # fmt: skip
    return _rows(["DIRECTION", "COUNTRY", "STATUS", "MRN", "HOLD", "UPDATED"], rows)


def _packages(status: dict[str, Any], utc: bool) -> str:
    packages = (status.get("shipment") or {}).get("packages", [])
    rows = [(n, p["weight_kg"], f"{p['length_cm']}x{p['width_cm']}x{p['height_cm']}")
            for n, p in enumerate(packages, start=1)]  # fmt: skip
    return _rows(["#", "WEIGHT_KG", "LxWxH_CM"], rows)


def _amount(money: dict[str, Any] | None) -> str | None:
    return f"{money['amount']} {money['currency']}" if money else None


def _charges(status: dict[str, Any], utc: bool) -> str:
    rows = [(c["kind"], _amount(c.get("amount")), "provisional" if c.get("provisional") else "",
             c.get("description"))
            for c in status.get("charges", [])]  # fmt: skip
    text = _rows(["KIND", "AMOUNT", "", "DESCRIPTION"], rows)
    refs = status.get("references") or {}
    invoice = refs.get("invoice_name") or refs.get("invoice_id")
    if invoice is not None:
        text += f"\n  invoice {invoice}" + (" (provisional)" if status.get("invoice_provisional")
                                            else "")  # fmt: skip
    return text


def _documents(status: dict[str, Any], utc: bool) -> str:
    rows = [(d["type"], d.get("format"), d["uri"]) for d in status.get("documents", [])]
    label = (status.get("references") or {}).get("label_url")
    if label and all(label != row[2] for row in rows):
        rows.append(("label", None, label))
    return _rows(["TYPE", "FORMAT", "URI"], rows)


def _references(status: dict[str, Any], utc: bool) -> str:
    refs = {k: v for k, v in (status.get("references") or {}).items() if v is not None}
    lines = [f"  {key:<20} {value}" for key, value in refs.items()]
    if status.get("ui_url"):
        lines.append(f"  {'temporal_ui':<20} {status['ui_url']}")
    return "\n".join(lines) or NONE


SECTIONS: list[tuple[str, Callable[[dict[str, Any], bool], str]]] = [
    ("Stage", _stage),
    ("SLA clocks", _sla),
    ("Customs declarations", _customs),
    ("Packages", _packages),
    ("Charges", _charges),
    ("Documents", _documents),
    ("References", _references),
]


def status_text(status: dict[str, Any], utc: bool = False) -> str:
    head = f"{status['shipment_id']}  order {status['order_ref']}  stage {status['stage']}"
    return "\n".join([head, *(f"{title}\n{render(status, utc)}" for title, render in SECTIONS)])
