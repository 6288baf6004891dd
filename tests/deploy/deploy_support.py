"""Reading deploy/ without a Docker engine or a cluster: YAML, images, env names, commands."""

import importlib
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DASHBOARD = DEPLOY / "grafana" / "borderflow.json"

SETTINGS_MODULES = (
    "workers.settings", "api.settings", "cli.settings", "workers.codec", "workers.connection",
    "workers.codec_server", "simulators.settings",
)  # fmt: skip
METRICS = frozenset({
    "borderflow_milestones_total", "borderflow_unmapped_codes_total",
    "borderflow_shipments_stuck", "borderflow_reconciliation_finished_timestamp_seconds",
    "borderflow_sla_breaches_total", "borderflow_shipments", "borderflow_invoice_lag_seconds",
    "borderflow_inbox_dead_letters", "borderflow_partner_requests_total",
    "borderflow_partner_request_seconds", "borderflow_http_requests_total",
    "temporal_workflow_task_schedule_to_start_latency", "temporal_activity_execution_failed",
    "temporal_activity_schedule_to_start_latency",
})  # fmt: skip
HISTOGRAMS = frozenset({
    "borderflow_invoice_lag_seconds", "borderflow_partner_request_seconds",
    "temporal_workflow_task_schedule_to_start_latency",
    "temporal_activity_schedule_to_start_latency",
})  # fmt: skip


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def k8s_objects() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in load_all(path)]


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def configmap() -> dict[str, str]:
    data: dict[str, str] = k8s_object("ConfigMap", "borderflow-config")["data"]
    return data


def settings_env_names() -> set[str]:
    """``BORDERFLOW_<FIELD>`` of every field of every settings class of the project."""
    for module in SETTINGS_MODULES:
        importlib.import_module(module)
    names: set[str] = set()
    pending: list[type[BaseSettings]] = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] not in {"workers", "api", "cli", "simulators"}:
            continue
        prefix = str(cls.model_config.get("env_prefix", ""))
        names.update(f"{prefix}{field}".upper() for field in cls.model_fields)
    return names


def deploy_texts() -> Iterator[tuple[Path, str]]:
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            yield path, path.read_text()


def image_references() -> list[tuple[str, str]]:
    """(where, image) for every image in compose, Kubernetes and the Dockerfile."""
    found = [(f"compose {name}", str(svc["image"])) for name, svc in compose()["services"].items()
             if "image" in svc]  # fmt: skip
    for obj in k8s_objects():
        spec = obj.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        for container in pod.get("containers", []):
            found.append((f"k8s {obj['kind']}/{obj['metadata']['name']}", container["image"]))
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", dockerfile, re.M))
    for image in re.findall(r"^FROM (\S+)", dockerfile, re.M):
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        found.append(("Dockerfile FROM", resolved))
    return found


def resolve_default(text: str) -> str:
    """``${VAR:-default}`` → ``default`` (compose interpolation with a fallback)."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)


def command_exists(argv: list[str]) -> bool:
    """``python -m <module>`` with a ``__main__``, or ``borderflow <subcommand>``."""
    from cli.main import COMMANDS

    if argv[:2] == ["python", "-m"]:
        module = argv[2]
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            return False
        if spec.submodule_search_locations:  # a package: needs __main__.py
            return importlib.util.find_spec(f"{module}.__main__") is not None
        return 'if __name__ == "__main__":' in Path(spec.origin).read_text()
    if argv[0] == "borderflow":
        return len(argv) >= 2 and argv[1] in COMMANDS
    return False


def metric_names(expr: str) -> set[str]:
    """Base metric names in a PromQL expression (histogram and counter suffixes removed)."""
    names = set()
    for token in re.findall(r"\b(?:borderflow|temporal)_[a-z0-9_]+", expr):
        for suffix in ("_bucket", "_sum", "_count"):
            if token.endswith(suffix) and token.removesuffix(suffix) in HISTOGRAMS:
                token = token.removesuffix(suffix)
        names.add(token)
    return names
