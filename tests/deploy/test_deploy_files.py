"""deploy/ checked without Docker or a cluster: it parses, names only real settings, routes and
commands, pins its images, and gives workers time to drain."""

import json
import re
from pathlib import Path

import pytest
from deploy_support import (
    COMPOSE,
    DASHBOARD,
    DEPLOY,
    K8S,
    METRICS,
    command_exists,
    compose,
    configmap,
    deploy_texts,
    image_references,
    k8s_object,
    k8s_objects,
    load_all,
    metric_names,
    resolve_default,
    settings_env_names,
    yaml_files,
)

from workers.settings import WorkerSettings


def test_every_yaml_file_parses() -> None:
    files = yaml_files()
    assert len(files) >= 12, files
    for path in files:
        assert load_all(path), f"{path} is empty"


def test_compose_has_the_whole_stack() -> None:
    services = compose()["services"]
    images = {name: str(svc.get("image", "")) for name, svc in services.items()}
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-ui"].startswith("temporalio/ui:")
    assert any(i.startswith("temporalio/admin-tools:") for i in images.values())
    assert images["temporal-db"].startswith("postgres:")
    assert images["store-db"].startswith("postgres:")
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["temporal"]["environment"]["POSTGRES_SEEDS"] == "temporal-db"
    assert images["otel-collector"].startswith("otel/opentelemetry-collector")
    assert images["prometheus"].startswith("prom/prometheus:")
    assert images["grafana"].startswith("grafana/grafana:")

    def runs(argv: list[str]) -> list[str]:
        return [name for name, svc in services.items() if svc.get("command") == argv]

    assert runs(["python", "-m", "api"]) == ["api"]
    assert len(runs(["python", "-m", "workers"])) == 2
    assert runs(["borderflow", "codec-server"]) == ["codec-server"]
    # The API's store is PostgreSQL, not the SQLite default.
    url = services["api"]["environment"]["BORDERFLOW_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@store-db:" in url


def test_the_compose_ui_decodes_through_the_codec_server() -> None:
    services = compose()["services"]
    ui, codec = services["temporal-ui"]["environment"], services["codec-server"]
    endpoint = resolve_default(ui["TEMPORAL_CODEC_ENDPOINT"])
    port = codec["environment"]["BORDERFLOW_CODEC_PORT"]
    assert endpoint == f"http://localhost:{port}"
    assert f"{port}:{port}" in codec["ports"]
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    ui_host_port = services["temporal-ui"]["ports"][0].split(":")[0]
    origin = f"http://localhost:{ui_host_port}"
    assert origin in codec["environment"]["BORDERFLOW_CODEC_CORS_ORIGINS"].split(",")
    assert ui["TEMPORAL_CORS_ORIGINS"] == origin


def test_the_compose_ui_is_read_only() -> None:
    """The UI has no login: a reset or terminate there would bypass the API's roles and its
    audit trail. (Kubernetes runs no UI of ours.)"""
    services = compose()["services"]
    assert services["temporal-ui"]["environment"]["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    manifests = "\n".join(path.read_text() for path in K8S.glob("*.yaml"))
    assert "temporalio/ui" not in manifests


def test_bind_mounted_files_exist() -> None:
    for name, svc in compose()["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), (name, source)
    build = compose()["services"]["api"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).exists()


def test_prometheus_scrapes_the_ports_the_processes_serve_metrics_on() -> None:
    from deploy_support import load_all as load

    config = load(DEPLOY / "prometheus" / "prometheus.yml")[0]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    services = compose()["services"]
    targets = [t for c in jobs["borderflow-worker"]["static_configs"] for t in c["targets"]]
    workers = [n for n, s in services.items() if s.get("command") == ["python", "-m", "workers"]]
    assert sorted(targets) == sorted(
        f"{name}:{services[name]['environment']['BORDERFLOW_WORKER_METRICS_PORT']}"
        for name in workers
    )
    assert jobs["borderflow-worker"]["metrics_path"] == "/metrics"
    api_port = services["api"]["environment"]["BORDERFLOW_API_PORT"]
    assert jobs["borderflow-api"]["static_configs"][0]["targets"] == [f"api:{api_port}"]
    assert WorkerSettings.model_fields["worker_metrics_port"].default == 9464


def test_every_image_is_pinned_to_an_exact_version() -> None:
    references = image_references()
    assert len(references) >= 15
    exact = re.compile(r"^v?\d+(\.\d+)+(-[a-z0-9.]+)*$")
    for where, image in references:
        image = resolve_default(image)
        name, _, digest = image.partition("@")
        assert ":" in name.rsplit("/", 1)[-1], f"{where}: {image} has no tag"
        tag = name.rsplit(":", 1)[1]
        assert tag != "latest" and exact.match(tag), f"{where}: {image} is not an exact version"
        assert not digest or re.fullmatch(r"sha256:[0-9a-f]{64}", digest), (where, image)


def test_every_borderflow_variable_in_deploy_is_a_setting() -> None:
    known = settings_env_names()
    assert {"BORDERFLOW_ENCRYPTION_KEYS", "BORDERFLOW_TEMPORAL_API_KEY",
            "BORDERFLOW_WORKER_METRICS_PORT", "BORDERFLOW_CODEC_CORS_ORIGINS"} <= known  # fmt: skip
    used: dict[str, set[str]] = {}
    for path, text in deploy_texts():
        for name in re.findall(r"\bBORDERFLOW_[A-Z0-9_]*[A-Z0-9]", text):
            used.setdefault(name, set()).add(str(path.relative_to(DEPLOY)))
    assert len(used) >= 30
    unknown = {name: sorted(where) for name, where in used.items() if name not in known}
    assert unknown == {}


def test_commands_in_the_dockerfile_compose_and_k8s_exist() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    (cmd,) = re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert "ENTRYPOINT" not in dockerfile.replace("# ", "")
    commands = [json.loads(cmd)]
    commands += [svc["command"] for svc in compose()["services"].values()
                 if str(svc.get("image", "")).startswith("borderflow:")]  # fmt: skip
    for obj in k8s_objects():
        for container in (
            obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ):
            commands.append(container["command"])
    assert len(commands) >= 10
    missing = [argv for argv in commands if not command_exists(argv)]
    assert missing == []
    # The check itself refuses what does not exist.
    assert not command_exists(["python", "-m", "workers.nope"])
    assert not command_exists(["python", "-m", "workers.codec"])  # a module without __main__
    assert not command_exists(["borderflow", "deploy-everything"])


def test_dockerfile_runs_as_a_non_root_user_from_a_multi_stage_build() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2
    assert re.search(r"^COPY --from=build ", dockerfile, re.M)
    (user,) = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user.split(":")[0] not in ("0", "root")
    for obj in k8s_objects():
        pod = obj.get("spec", {}).get("template", {}).get("spec")
        if pod:
            assert pod["securityContext"]["runAsNonRoot"] is True, obj["metadata"]["name"]


def test_kustomization_lists_existing_files_and_no_secret() -> None:
    kustomization = load_all(K8S / "kustomization.yaml")[0]
    for resource in kustomization["resources"]:
        assert (K8S / resource).exists(), resource
        assert all(doc["kind"] != "Secret" for doc in load_all(K8S / resource))


def test_secrets_are_referenced_never_filled_in() -> None:
    examples = [o for o in load_all(K8S / "secrets.example.yaml") if o["kind"] == "Secret"]
    assert all(set(o["stringData"].values()) == {"CHANGE-ME"} for o in examples)
    names = {o["metadata"]["name"] for o in examples}
    referenced = set()
    for obj in k8s_objects():
        pod = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []):
            referenced |= {e["secretRef"]["name"] for e in container.get("envFrom", [])
                           if "secretRef" in e}  # fmt: skip
        referenced |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    assert referenced and referenced <= names
    secretish = re.compile(r"(PASSWORD|API_KEY|SECRET|ENCRYPTION_KEYS|DATABASE_URL)$")
    assert [key for key in configmap() if secretish.search(key)] == []
    # compose takes every secret from deploy/.env (interpolation), never a literal.
    for name, svc in compose()["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if secretish.search(key) or key.endswith(("PASSWORD", "PWD")):
                assert "${" in str(value), (name, key)


@pytest.mark.parametrize("name", ["borderflow-api", "borderflow-worker"])
def test_deployments_have_resources_and_an_hpa(name: str) -> None:
    deployment = k8s_object("Deployment", name)
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        assert container["resources"]["requests"]["cpu"]
        assert container["resources"]["requests"]["memory"]
        assert container["resources"]["limits"]["memory"]
    hpa = k8s_object("HorizontalPodAutoscaler", name)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": name
    }  # fmt: skip
    assert 1 < hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_a_stopping_worker_gets_longer_than_its_graceful_shutdown() -> None:
    default = WorkerSettings.model_fields["graceful_shutdown_s"].default
    drain = float(configmap().get("BORDERFLOW_GRACEFUL_SHUTDOWN_S", default))
    pod = k8s_object("Deployment", "borderflow-worker")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > drain
    assert all(
        e["name"] != "BORDERFLOW_GRACEFUL_SHUTDOWN_S"
        for c in pod["containers"] for e in c.get("env", [])
    )  # fmt: skip
    for name, svc in compose()["services"].items():
        if svc.get("command") == ["python", "-m", "workers"]:
            compose_drain = float(svc["environment"]["BORDERFLOW_GRACEFUL_SHUTDOWN_S"])
            grace = int(str(svc["stop_grace_period"]).removesuffix("s"))
            assert grace > compose_drain, name


def test_the_dashboard_uses_only_the_agreed_metric_names() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 12
    used: set[str] = set()
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names, (panel["title"], target["expr"])
            assert names <= METRICS, (panel["title"], names - METRICS)
            used |= names
    assert used == METRICS  # and every one of them has a panel
    datasource = load_all(DEPLOY / "grafana/provisioning/datasources/prometheus.yaml")[0]
    uids = {p["datasource"]["uid"] for p in panels}
    assert uids == {datasource["datasources"][0]["uid"]}


def test_alert_rules_use_only_the_agreed_metric_names() -> None:
    rules = load_all(DEPLOY / "prometheus" / "alerts.yml")[0]["groups"][0]["rules"]
    assert len(rules) >= 8
    for rule in rules:
        assert metric_names(rule["expr"]) <= METRICS, rule["alert"]


def test_metric_name_extraction_catches_strangers() -> None:
    assert metric_names("rate(borderflow_partner_request_seconds_bucket[5m])") == {
        "borderflow_partner_request_seconds"
    }
    assert metric_names("borderflow_shipment_total") - METRICS == {"borderflow_shipment_total"}
    assert metric_names('{__name__=~"temporal_activity_execution_failed(_total)?"}') == {
        "temporal_activity_execution_failed"
    }


def test_env_example_names_every_compose_secret() -> None:
    example = (DEPLOY / ".env.example").read_text()
    defined = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE.read_text()))
    assert required and required <= defined
    assert not re.search(r"^[A-Z_]*(PASSWORD|KEY|SECRET|KEYS)=\S", example, re.M)


def test_shell_scripts_are_posix_sh() -> None:
    for script in Path(DEPLOY / "temporal").glob("*.sh"):
        text = script.read_text()
        assert text.startswith("#!/bin/sh\n") and "set -eu" in text, script


def test_runbook_links_point_at_headings_of_the_operations_guide() -> None:
    guide = (DEPLOY.parent / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", guide, re.M)
    }
    rules = load_all(DEPLOY / "prometheus" / "alerts.yml")[0]["groups"][0]["rules"]
    links = {r["annotations"]["runbook"].split("#", 1)[1] for r in rules
             if "runbook" in r["annotations"]}  # fmt: skip
    links |= set(re.findall(r"\]\(#([a-z0-9-]+)\)", guide))
    assert len(links) >= 6
    assert links - anchors == set()


def test_the_store_is_migrated_before_any_process_that_uses_it_starts() -> None:
    services = compose()["services"]
    (migrate,) = [
        n for n, s in services.items() if s.get("command") == ["borderflow", "db", "upgrade"]
    ]
    job = services[migrate]
    assert job["restart"] == "no"
    assert job["depends_on"] == {"store-db": {"condition": "service_healthy"}}
    url = services["api"]["environment"]["BORDERFLOW_DATABASE_URL"]
    assert job["environment"]["BORDERFLOW_DATABASE_URL"] == url
    users = [
        n for n, s in services.items() if "BORDERFLOW_DATABASE_URL" in s.get("environment", {})
    ]
    assert {"api", "worker-1", "worker-2", "codec-server"} <= set(users)
    for name in set(users) - {migrate}:
        condition = services[name]["depends_on"][migrate]["condition"]
        assert condition == "service_completed_successfully", name
    # Kubernetes: a Job, with the store's secret, in the kustomization.
    k8s_job = k8s_object("Job", "borderflow-store-migrate")
    (container,) = k8s_job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["borderflow", "db", "upgrade"]
    assert {"secretRef": {"name": "borderflow-core"}} in container["envFrom"]
    kustomization = load_all(K8S / "kustomization.yaml")[0]
    assert "store-migrate-job.yaml" in kustomization["resources"]
