"""How every process reaches Temporal beyond address and namespace: TLS, API key, encryption.

Read from the environment (prefix ``BORDERFLOW_``) by ``workflows.client.connect``, so the API,
the worker and the ``borderflow`` command connect the same way.

- Self-hosted without TLS (``make run``, the compose stack): nothing to set.
- Temporal Cloud with an API key: ``TEMPORAL_ADDRESS=<region>.<cloud>.api.temporal.io:7233``,
  ``TEMPORAL_NAMESPACE=<namespace>.<account>``, ``TEMPORAL_API_KEY=…`` (TLS turns on by itself).
- Temporal Cloud or a cluster with mTLS:
  ``TEMPORAL_ADDRESS=<namespace>.<account>.tmprl.cloud:7233``,
  ``TEMPORAL_TLS_CLIENT_CERT_PATH`` and ``TEMPORAL_TLS_CLIENT_KEY_PATH`` (PEM files, mounted
  from a secret); ``TEMPORAL_TLS_SERVER_CA_PATH`` and ``TEMPORAL_TLS_SERVER_NAME`` for a
  private CA.

Guarantee: the API key and key files are read only here and handed to the SDK; they are never
logged (``SecretStr``, paths only in messages).
"""

from pathlib import Path

from pydantic import SecretStr, model_validator
from temporalio.service import TLSConfig

from workers.codec import EncryptionSettings


class ConnectionSettings(EncryptionSettings):
    """TLS, API key and payload encryption of the Temporal connection."""

    temporal_api_key: SecretStr | None = None
    """Temporal Cloud API key; sent as ``Authorization: Bearer`` on every call, over TLS."""
    temporal_tls: bool | None = None
    """``None``: TLS when an API key or a client certificate is set; ``True``/``False`` forces."""
    temporal_tls_client_cert_path: Path | None = None
    """mTLS client certificate (PEM)."""
    temporal_tls_client_key_path: Path | None = None
    """mTLS client private key (PEM)."""
    temporal_tls_server_ca_path: Path | None = None
    """CA that signed the server certificate, when it is not a public one."""
    temporal_tls_server_name: str | None = None
    """Server name to verify (SNI) when it differs from the address's host."""

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> "ConnectionSettings":
        if (self.temporal_tls_client_cert_path is None) != (
            self.temporal_tls_client_key_path is None
        ):
            raise ValueError(
                "BORDERFLOW_TEMPORAL_TLS_CLIENT_CERT_PATH and _KEY_PATH go together: set both"
            )
        return self

    def api_key(self) -> str | None:
        return self.temporal_api_key.get_secret_value() if self.temporal_api_key else None

    def tls(self) -> bool | TLSConfig:
        """What ``Client.connect(tls=…)`` takes: ``False``, ``True`` or a ``TLSConfig``."""
        detailed = any(
            value is not None
            for value in (
                self.temporal_tls_client_cert_path,
                self.temporal_tls_server_ca_path,
                self.temporal_tls_server_name,
            )
        )
        if self.temporal_tls is False:
            if detailed or self.temporal_api_key:
                raise ValueError(
                    "BORDERFLOW_TEMPORAL_TLS=false contradicts the API key or TLS files set"
                )
            return False
        if not detailed:
            return bool(self.temporal_tls or self.temporal_api_key)
        return TLSConfig(
            client_cert=_read(self.temporal_tls_client_cert_path),
            client_private_key=_read(self.temporal_tls_client_key_path),
            server_root_ca_cert=_read(self.temporal_tls_server_ca_path),
            domain=self.temporal_tls_server_name,
        )


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror}") from None
