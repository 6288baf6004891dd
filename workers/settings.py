"""Settings of the worker process (environment variables prefixed ``BORDERFLOW_``)."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
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
    tms_url: str = "http://127.0.0.1:8091"
    tms_api_key: SecretStr
    carrier_url: str = "http://127.0.0.1:8092"
    carrier_api_key: SecretStr
    broker_url: str = "http://127.0.0.1:8093"
    broker_api_key: SecretStr
    finance_url: str = "http://127.0.0.1:8094"
