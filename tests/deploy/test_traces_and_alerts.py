"""Signals that reach people, checked without Docker: traces go from the collector to Jaeger,
alerts from Prometheus to Alertmanager, and Alertmanager routes every alert to a receiver that
is configured. No ``promtool``/``amtool`` here: the files are read with PyYAML against the keys
Prometheus, Alertmanager and the collector document."""

import re
from typing import Any

from deploy_support import DEPLOY, compose, load_all, resolve_default

from canonical.partners import simulator_ports

COLLECTOR = DEPLOY / "otel" / "collector.yaml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
GUIDE = DEPLOY.parent / "docs" / "operations.md"

EXACT_TAG = re.compile(r"^v?\d+(\.\d+){2}$")
DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
MATCHER = re.compile(r'^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"[^"]*"\s*$')
# Alertmanager's configuration reference (prometheus.io/docs/alerting/latest/configuration/).
AM_TOP_KEYS = {"global", "templates", "route", "inhibit_rules", "receivers", "time_intervals",
               "mute_time_intervals", "tracing"}  # fmt: skip
AM_ROUTE_KEYS = {"receiver", "group_by", "continue", "matchers", "match", "match_re",
                 "group_wait", "group_interval", "repeat_interval", "mute_time_intervals",
                 "active_time_intervals", "routes"}  # fmt: skip
AM_WEBHOOK_KEYS = {"send_resolved", "url", "url_file", "http_config", "max_alerts", "timeout"}


def _service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, sorted(services)
    service: dict[str, Any] = services[name]
    return service


def _depends_on(service: dict[str, Any]) -> set[str]:
    """Service names of ``depends_on``, in its short (list) or long (mapping) form."""
    return set(service.get("depends_on", []))


def _loopback_ports(service: dict[str, Any]) -> dict[int, int]:
    """``{container port: host port}`` of the ports published on 127.0.0.1 only."""
    published = {}
    for port in service.get("ports", []):
        host_ip, host, container = str(port).split(":")
        assert host_ip == "127.0.0.1", f"{port}: a UI without a login is published on loopback"
        published[int(container)] = int(host)
    return published


def _alertmanager() -> dict[str, Any]:
    config: dict[str, Any] = load_all(ALERTMANAGER)[0]
    return config


def _routes(route: dict[str, Any]) -> list[dict[str, Any]]:
    """``route`` and every route under it, depth first."""
    return [route] + [r for child in route.get("routes", []) for r in _routes(child)]


def test_jaeger_and_alertmanager_are_pinned_services_of_the_stack() -> None:
    images = {"jaeger": "jaegertracing/jaeger:", "alertmanager": "prom/alertmanager:"}
    for name, image in images.items():
        service = _service(name)
        assert str(service["image"]).startswith(image), service["image"]
        tag = str(service["image"]).rsplit(":", 1)[1]
        assert EXACT_TAG.match(tag), f"{name}: {tag} is not an exact version"
        assert service["restart"] == "unless-stopped"
    assert _loopback_ports(_service("jaeger")) == {16686: 16686}
    assert _loopback_ports(_service("alertmanager")) == {9093: 9093}


def test_the_senders_start_after_what_they_send_to() -> None:
    """Like grafana after prometheus: the short form (none of the observability images has a
    shell for a healthcheck, and a sender retries)."""
    services = compose()["services"]
    assert "jaeger" in _depends_on(services["otel-collector"])
    assert "alertmanager" in _depends_on(services["prometheus"])
    for name, service in services.items():
        assert _depends_on(service) <= set(services), name


def test_the_collector_exports_traces_to_jaeger_over_otlp() -> None:
    config = load_all(COLLECTOR)[0]
    pipelines = config["service"]["pipelines"]
    for name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            assert set(pipeline.get(kind, [])) <= set(config[kind]), (name, kind)
    exporters = pipelines["traces"]["exporters"]
    otlp = [e for e in exporters if e.split("/")[0] == "otlp"]
    assert len(otlp) == 1, exporters
    endpoint = config["exporters"][otlp[0]]["endpoint"]
    assert endpoint == "jaeger:4317"  # Jaeger's OTLP/gRPC receiver, on the compose network
    assert set(exporters) - set(otlp) <= {"debug"}
    if "debug" in exporters:
        assert config["exporters"]["debug"].get("verbosity", "basic") == "basic"
    # The API and the workers still send to the collector, not to Jaeger directly.
    env = compose()["x-borderflow-env"]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"


def test_prometheus_sends_alerts_to_alertmanager_and_still_loads_the_rules() -> None:
    config = load_all(PROMETHEUS)[0]
    assert "/etc/prometheus/alerts.yml" in config["rule_files"]
    mounts = _service("prometheus")["volumes"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts
    (alertmanagers,) = config["alerting"]["alertmanagers"]
    targets = [t for c in alertmanagers["static_configs"] for t in c["targets"]]
    assert targets == ["alertmanager:9093"]
    assert 9093 in _loopback_ports(_service("alertmanager"))


def test_alertmanager_routes_every_alert_to_a_configured_receiver() -> None:
    config = _alertmanager()
    assert set(config) <= AM_TOP_KEYS, set(config) - AM_TOP_KEYS
    receivers = {r["name"]: r for r in config["receivers"]}
    assert len(receivers) == len(config["receivers"]), "receiver names are unique"
    root = config["route"]
    assert root["receiver"] in receivers  # the root must name one: it catches everything
    for key in ("group_wait", "group_interval", "repeat_interval"):
        assert DURATION.match(str(root[key])) and root[key], key
    assert root["group_by"]
    for route in _routes(root):
        assert set(route) <= AM_ROUTE_KEYS, set(route) - AM_ROUTE_KEYS
        assert route.get("receiver", root["receiver"]) in receivers
        assert all(MATCHER.match(m) for m in route.get("matchers", [])), route
        for key in ("group_wait", "group_interval", "repeat_interval"):
            assert DURATION.match(str(route.get(key, "1m"))), (key, route)
    for rule in config.get("inhibit_rules", []):
        matchers = rule["source_matchers"] + rule["target_matchers"]
        assert all(MATCHER.match(m) for m in matchers), rule


def test_every_severity_of_the_rules_has_a_route() -> None:
    rules = load_all(DEPLOY / "prometheus" / "alerts.yml")[0]["groups"][0]["rules"]
    severities = {r["labels"]["severity"] for r in rules}
    routed = {m for r in _routes(_alertmanager()["route"]) for m in r.get("matchers", [])}
    assert {f'severity="{s}"' for s in severities} <= routed


def test_the_receiver_posts_where_compose_says() -> None:
    """Alertmanager expands no variables: the webhook's URL is a file that compose writes from
    ``ALERT_WEBHOOK_URL`` (deploy/.env), the notification simulator's hook by default."""
    hooks = [w for r in _alertmanager()["receivers"] for w in r.get("webhook_configs", [])]
    assert hooks
    for hook in hooks:
        assert set(hook) <= AM_WEBHOOK_KEYS, set(hook) - AM_WEBHOOK_KEYS
        assert ("url" in hook) != ("url_file" in hook)
        assert hook.get("send_resolved") is True
    service = _service("alertmanager")
    mounted = {c["target"]: c["source"] for c in service["configs"]}
    configs = compose()["configs"]
    for hook in hooks:
        source = mounted[hook["url_file"]]
        content = str(configs[source]["content"])
        assert content == "${ALERT_WEBHOOK_URL:-http://simulators:8094/hooks/alerts}"
    command = service["command"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in command
    assert (
        "./alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro"
        in (service["volumes"])
    )
    # The default is the registry's notification simulator, as the workers reach it.
    notify = resolve_default(compose()["x-worker"]["environment"]["BORDERFLOW_NOTIFY_URL"])
    assert notify == f"http://simulators:{simulator_ports()['notify']}" == "http://simulators:8094"


def test_the_operations_guide_says_where_traces_and_alerts_are() -> None:
    guide = GUIDE.read_text()
    (section,) = re.findall(r"^## Traces and alerts\n(.*?)(?=^## )", guide, re.M | re.S)
    for needle in ("http://localhost:16686", "http://localhost:9093", "ALERT_WEBHOOK_URL",
                   "slack_configs", "pagerduty_configs", "email_configs"):  # fmt: skip
        assert needle in section, needle
