"""Kubernetes probes point at routes and ports the processes really serve."""

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from deploy_support import configmap, k8s_object
from pydantic import SecretStr
from temporalio.client import Client
from tests_support import free_port, migrated_engine

from api.app import create_app
from api.settings import ApiSettings
from workers.codec import EncryptionCodec, Keyring, generate_key
from workers.codec_server import CodecServerSettings, create_codec_app
from workers.http import WorkerHealth, create_http_app
from workers.settings import WorkerSettings


def get_routes(app: web.Application) -> set[str]:
    return {
        route.resource.canonical
        for route in app.router.routes()
        if route.method == "GET" and route.resource is not None
    }


def probes(deployment: str) -> tuple[dict[str, Any], dict[str, int]]:
    pod = k8s_object("Deployment", deployment)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    return container, ports


def probe_target(container: dict[str, Any], ports: dict[str, int], kind: str) -> tuple[str, int]:
    get = container[kind]["httpGet"]
    port = get["port"]
    return get["path"], ports[port] if isinstance(port, str) else port


@pytest.fixture
async def lazy_client() -> Client:
    return await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)


async def test_api_probes(lazy_client: Client, tmp_path: Path) -> None:
    settings = ApiSettings(
        easypost_webhook_secret=SecretStr("x"), broker_webhook_secret=SecretStr("x")
    )
    store = migrated_engine(f"sqlite:///{tmp_path / 'store.db'}")
    served = get_routes(create_app(settings, lazy_client, store))
    store.dispose()
    container, ports = probes("borderflow-api")
    port = int(configmap().get("BORDERFLOW_API_PORT", ApiSettings.model_fields["api_port"].default))
    assert probe_target(container, ports, "livenessProbe") == ("/healthz", port)
    assert probe_target(container, ports, "readinessProbe") == ("/readyz", port)
    assert probe_target(container, ports, "startupProbe")[0] in served
    assert {"/healthz", "/readyz"} <= served


async def test_worker_probes(lazy_client: Client) -> None:
    served = get_routes(create_http_app(WorkerHealth(lazy_client)))
    container, ports = probes("borderflow-worker")
    default = WorkerSettings.model_fields["worker_metrics_port"].default
    port = int(configmap().get("BORDERFLOW_WORKER_METRICS_PORT", default))
    assert probe_target(container, ports, "livenessProbe") == ("/healthz", port)
    assert probe_target(container, ports, "readinessProbe") == ("/readyz", port)
    assert probe_target(container, ports, "startupProbe")[0] in served
    assert {"/healthz", "/readyz"} <= served
    annotations = k8s_object("Deployment", "borderflow-worker")["spec"]["template"]["metadata"]
    assert annotations["annotations"]["prometheus.io/port"] == str(port)


def test_codec_server_probes(tmp_path: Path) -> None:
    settings = CodecServerSettings(database_url=f"sqlite:///{tmp_path / 'store.db'}")
    codec = EncryptionCodec(Keyring.parse(f"k1:{generate_key()}"))
    served = get_routes(create_codec_app(settings, codec))
    container, ports = probes("borderflow-codec")
    port = int(configmap()["BORDERFLOW_CODEC_PORT"])
    for kind in ("livenessProbe", "readinessProbe"):
        path, probed = probe_target(container, ports, kind)
        assert path in served and probed == port
