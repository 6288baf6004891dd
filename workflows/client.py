"""How every process (worker, API, CLI) connects to Temporal: one data converter for all.

The pydantic data converter lets workflows, activities, signals and queries take and return
pydantic models (Decimal, datetime with offsets and enums survive the round trip). When
``BORDERFLOW_ENCRYPTION_KEYS`` is set, every payload is also encrypted (``workers/codec.py``);
TLS and the Temporal Cloud API key come from ``workers/connection.py``.
"""

import dataclasses

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import HeaderCodecBehavior
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.service import RPCError, RPCStatusCode

from workers.codec import codec_from_settings
from workers.connection import ConnectionSettings
from workflows.converter import shared_pydantic_data_converter
from workflows.models import SEARCH_ATTRIBUTES


def data_converter(settings: ConnectionSettings) -> DataConverter:
    """The pydantic converter; with keys configured, also the encryption codec, and failure
    messages and stack traces moved into (encrypted) encoded attributes."""
    codec = codec_from_settings(settings)
    if codec is None:
        return shared_pydantic_data_converter
    return dataclasses.replace(
        shared_pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(
    address: str, namespace: str, settings: ConnectionSettings | None = None
) -> Client:
    """A client for ``namespace``; ``settings`` (default: read from the environment) add TLS,
    the Temporal Cloud API key and payload encryption."""
    settings = settings or ConnectionSettings()
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter(settings),
        tls=settings.tls(),
        api_key=settings.api_key(),
        # Headers too: the tracing interceptor's context rides in them, and with encryption on
        # nothing in the history may stay readable.
        header_codec_behavior=HeaderCodecBehavior.CODEC,
    )


def ui_link(ui_url: str, namespace: str, workflow_id: str) -> str:
    """The Temporal Web UI page of a workflow (its latest run)."""
    return f"{ui_url.rstrip('/')}/namespaces/{namespace}/workflows/{workflow_id}"


async def register_search_attributes(client: Client) -> None:
    """Register the workflows' search attributes on a self-hosted server; idempotent.

    ``borderflow up`` passes them to the dev server on its command line instead; on Temporal
    Cloud they are added with ``tcld``.
    """
    for name, kind in SEARCH_ATTRIBUTES.items():  # one by one: some may exist already
        wanted = {name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")}
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=client.namespace, search_attributes=wanted)
            )
        except RPCError as err:
            if err.status != RPCStatusCode.ALREADY_EXISTS:
                raise
