"""Settings of the worker process (environment variables prefixed ``BORDERFLOW_``)."""

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.worker import PollerBehaviorSimpleMaximum

from activities.carriers.karrio_settings import KarrioConnection
from activities.carriers.settings import CarrierSettings
from activities.reconcile_models import DEFAULT_STALE_AFTER_MIN, ReconcileInput
from canonical.partners import partners, polled_carriers
from canonical.shipment import Stage
from workers.regions import check_region
from workers.serving import HttpServing

KARRIO_CALLS_PER_S = 10.0
"""The default rate limit of each Karrio connection's queue."""


def _default_rates(karrio: list[KarrioConnection]) -> dict[str, float]:
    """Every partner queue's default rate limit: the registry's, then the Karrio carriers'."""
    rates = {p.name: p.queue.calls_per_s for p in partners() if p.queue is not None}
    return {**rates, **{connection.name: KARRIO_CALLS_PER_S for connection in karrio}}


class WorkerTuning(BaseSettings):
    """How much one worker process takes on at once: slots, workflow cache and pollers.

    Separate from :class:`WorkerSettings` so that the benchmarks' bare worker
    (``bench/bare.py``) runs with exactly the same knobs as the real one. The defaults were
    chosen from ``make bench`` measurements on a 2-core machine (``docs/performance.md``).
    """

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    max_concurrent_activities: int = Field(default=50, ge=1)
    """Activity slots of each task queue's worker in this process."""
    max_concurrent_workflow_tasks: int = Field(default=100, ge=1)
    """Workflow task slots of the workflow queue's worker."""
    max_cached_workflows: int = Field(default=1000, ge=0)
    """Workflows kept in memory between their tasks (sticky cache); an evicted workflow is
    replayed from its history on its next task, so a cache that is too small costs CPU, one
    that is too large costs memory (see the timer benchmark)."""
    workflow_task_pollers: int = Field(default=5, ge=1)
    """Concurrent long polls for workflow tasks."""
    activity_task_pollers: int = Field(default=5, ge=1)
    """Concurrent long polls for activity tasks, per task queue."""

    def worker_options(self) -> dict[str, object]:
        """The keyword arguments of ``temporalio.worker.Worker`` these knobs set."""
        return {
            "max_concurrent_activities": self.max_concurrent_activities,
            "max_concurrent_workflow_tasks": self.max_concurrent_workflow_tasks,
            "max_cached_workflows": self.max_cached_workflows,
            "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(
                self.workflow_task_pollers
            ),
            "activity_task_poller_behavior": PollerBehaviorSimpleMaximum(
                self.activity_task_pollers
            ),
        }


class WorkerSettings(HttpServing, WorkerTuning, CarrierSettings):
    """The worker HTTP port's connection limits (``http_*``) are :class:`HttpServing`'s, the
    carriers' settings :class:`~activities.carriers.settings.CarrierSettings`'."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    database_url: str = "sqlite:///.data/borderflow.db"
    graceful_shutdown_s: float = 30.0
    """How long a stopping worker lets running activities finish."""

    odoo_url: str = "http://127.0.0.1:8069"
    odoo_db: str = "borderflow"
    odoo_login: str = "admin"
    odoo_password: SecretStr
    odoo_api_key: SecretStr | None = None
    """Odoo ≥ 19 API key, for the JSON-2 transport."""
    odoo_transport: Literal["auto", "jsonrpc", "json2"] = "auto"
    tms_url: str = "http://127.0.0.1:8091"
    tms_api_key: SecretStr
    broker_url: str = "http://127.0.0.1:8093"
    broker_api_key: SecretStr
    notify_url: str = "http://127.0.0.1:8094"
    """Webhook sink of the notification channels: ``{notify_url}/hooks/{ops|finance|account}``."""

    calls_per_s: dict[str, float] = Field(default_factory=dict)
    """Rate limits by partner name, JSON (``{"odoo": 40, "dhl": 2}``), each enforced by the
    server on that partner's queue across every worker; a partner not named keeps its
    registry default (Karrio connections: :data:`KARRIO_CALLS_PER_S`)."""
    otel_exporter: Literal["otlp", "console", "none"] = "none"
    """Where finished trace spans go (spans are made and propagated either way)."""
    otel_endpoint: str | None = None
    """OTLP/HTTP traces URL, e.g. ``http://collector:4318/v1/traces`` (default: ``OTEL_*``)."""
    log_format: Literal["json", "text"] = "text"
    log_level: str = "INFO"
    worker_sdk_metrics_port: int = 9465
    """Temporal SDK metrics (``/metrics``, served by the SDK's core on the metrics host);
    ``0``: none."""

    def calls_per_second(self, partner: str) -> float:
        """The rate limit of one partner's queue (a carrier's: its own)."""
        if partner in self.calls_per_s:
            return self.calls_per_s[partner]
        return _default_rates(self.karrio_carriers)[partner]

    @model_validator(mode="after")
    def _rates_name_known_partners(self) -> "WorkerSettings":
        known = _default_rates(self.karrio_carriers)
        unknown = sorted(set(self.calls_per_s) - set(known))
        if unknown:
            raise ValueError(f"calls_per_s: unknown partners {unknown}; known: {sorted(known)}")
        bad = sorted(name for name, rate in self.calls_per_s.items() if not rate > 0)
        if bad:
            raise ValueError(f"calls_per_s: {bad} must be > 0")
        return self

    # -- reconciliation (the schedule is created or updated by the worker at start-up) -----
    reconcile_every_min: float = Field(default=5.0, gt=0)
    """Minutes between two reconciliation runs."""
    reconcile_stale_after_min: dict[Stage, float] = Field(default_factory=dict)
    """Per stage, minutes without a milestone before a shipment is stale, as JSON, e.g.
    ``{"delivery": 60}``; the stages named replace their defaults (book 30, customs 120,
    delivery 360)."""
    reconcile_poll_always: list[str] = Field(default_factory=polled_carriers)
    """Carriers that push no webhooks: polled on every run (JSON list)."""
    reconcile_max_shipments: int = Field(default=1000, ge=1)
    """Shipments checked per run at most."""

    def reconcile_input(self, carriers: list[str]) -> ReconcileInput:
        """What every scheduled reconciliation run checks; ``carriers``: those the workers
        serve (a shipment of another carrier is reported, never polled)."""
        return ReconcileInput(
            carriers=carriers,
            stale_after_min={**DEFAULT_STALE_AFTER_MIN, **self.reconcile_stale_after_min},
            poll_always=self.reconcile_poll_always,
            max_shipments=self.reconcile_max_shipments,
        )

    worker_metrics_host: str = "127.0.0.1"
    """Address of the worker's HTTP port (probes ``/healthz`` ``/readyz``; ``/metrics``)."""
    worker_metrics_port: int = 9464
    """Port of the worker's HTTP app (``workers/http.py``); ``0``: no HTTP port."""
    region: str | None = None
    """Poll the partner queues of this region (``borderflow-<partner>-<region>``, see
    ``workers/regions.py``) instead of the global ones; unset: the global queues."""

    @field_validator("region")
    @classmethod
    def _region_is_a_queue_suffix(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)
