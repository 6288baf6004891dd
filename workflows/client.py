"""How every process (worker, API, CLI) connects to Temporal: one data converter for all.

The pydantic data converter lets workflows, activities, signals and queries take and return
pydantic models (Decimal, datetime with offsets and enums survive the round trip).
"""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from workflows.models import SEARCH_ATTRIBUTES


async def connect(address: str, namespace: str) -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


def ui_link(ui_url: str, namespace: str, workflow_id: str) -> str:
    """The Temporal Web UI page of a workflow (its latest run)."""
    return f"{ui_url.rstrip('/')}/namespaces/{namespace}/workflows/{workflow_id}"


async def register_search_attributes(client: Client) -> None:
    """Register the workflows' search attributes on a self-hosted server; idempotent.

    ``borderflow up`` passes them to the dev server on its command line instead; on Temporal
    Cloud they are added with ``tcld``.
    """
    wanted = {
        name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
        for name, kind in SEARCH_ATTRIBUTES.items()
    }
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=wanted)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise
