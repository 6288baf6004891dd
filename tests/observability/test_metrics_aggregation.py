"""Gauges of global counts, published identically by every API pod, are read with ``max``
across pods by the dashboard and the alerts: a ``sum`` would multiply them by the pod count."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

from observability.metrics import GLOBAL_GAUGES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
AGGREGATION = r"(sum|avg|min|max|count|group|stddev|stdvar|topk|bottomk|quantile)"
# an aggregation operator, its optional ``by``/``without`` clause, and the first metric it reads
AROUND = re.compile(
    AGGREGATION
    + r"\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(\s*(?:[\d.]+\s*,\s*)?([a-z_:][a-z0-9_:]*)"
)


def expressions() -> list[tuple[str, str]]:
    """Every PromQL expression of the dashboard and of the alert rules, with where it is."""
    dashboard = json.loads((DEPLOY / "grafana" / "borderflow.json").read_text())
    found = [
        (f"panel {p['title']}", t["expr"])
        for p in dashboard["panels"] for t in p.get("targets", [])
    ]  # fmt: skip
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    found += [
        (f"alert {rule['alert']}", rule["expr"])
        for group in alerts["groups"] for rule in group["rules"]
    ]  # fmt: skip
    return found


def uses(name: str, expr: str) -> int:
    return len(re.findall(rf"\b{name}\b", expr))


def gauges_in(expr: str) -> set[str]:
    return {name for name in GLOBAL_GAUGES if uses(name, expr)}


def test_the_global_gauges_are_gauges_of_this_process() -> None:
    registered = {m.name: m.type for m in REGISTRY.collect()}
    assert {"borderflow_shipments", "borderflow_shipments_stuck"} <= GLOBAL_GAUGES
    assert all(registered[name] == "gauge" for name in GLOBAL_GAUGES)


def test_no_global_gauge_is_summed_across_pods() -> None:
    read = set()
    for where, expr in expressions():
        names = gauges_in(expr)
        if not names:
            continue
        read |= names
        assert not re.search(r"\bsum\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(", expr), (where, expr)
        wrapped = {name: op for op, name in AROUND.findall(expr)}
        for name in names:
            # each occurrence: directly inside max (one aggregation per use of the gauge)
            assert uses(name, expr) == 1, (where, expr)
            assert wrapped.get(name) == "max", (where, name, expr)
    assert {"borderflow_shipments", "borderflow_shipments_stuck"} <= read


def test_shipments_by_status_is_the_max_by_status() -> None:
    (expr,) = [e for where, e in expressions() if where == "panel Shipments by status"]
    assert re.sub(r"\s+", " ", expr) == "max by (status) (borderflow_shipments)"


def test_an_alert_watches_the_stuck_shipments_by_stage() -> None:
    alerts = {where: expr for where, expr in expressions() if where.startswith("alert ")}
    stuck = alerts["alert BorderflowShipmentsStuck"]
    assert re.sub(r"\s+", " ", stuck) == "max by (stage) (borderflow_shipments_stuck) > 0"


def test_the_check_catches_a_sum() -> None:
    assert re.search(r"\bsum\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(", "sum by (status) (x)")
    assert not re.search(r"\bsum\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(", "max(x_sum)")
    assert AROUND.findall("sum(borderflow_shipments)") == [("sum", "borderflow_shipments")]
    assert AROUND.findall("time() - max by (stage) (borderflow_shipments_stuck)") == [
        ("max", "borderflow_shipments_stuck")
    ]
    assert uses("borderflow_shipments", "max(borderflow_shipments_stuck)") == 0
