"""The payload converter every process uses: pydantic, with one type-adapter cache per process.

``temporalio.contrib.pydantic`` keeps its ``TypeAdapter`` cache on the converter instance, and
the worker makes a converter for every workflow run it holds: each cached shipment then built
and kept its own adapters for its input, state and signals (some 55 KB per shipment, a third of
what a parked shipment cost the worker). ``SharedPydanticPayloadConverter`` is the same
converter reading one cache shared by every instance in the process: a ``TypeAdapter`` holds
no per-call state, so sharing it changes nothing but memory and the time to build it.
"""

import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import DataConverter

__all__ = ["SharedPydanticPayloadConverter", "shared_pydantic_data_converter"]

MAX_TYPE_ADAPTERS = 1024
"""Type hints whose adapters are kept (least recently used dropped first)."""

_adapters: "functools._lru_cache_wrapper[TypeAdapter[Any]]" = functools.lru_cache(
    maxsize=MAX_TYPE_ADAPTERS
)(TypeAdapter)


class _SharedAdapters(PydanticJSONPlainPayloadConverter):
    """The JSON converter reading the process-wide cache, also in its copies: the SDK copies
    the converter for each serialization context, and the parent class's copies start an empty
    cache of their own (its ``__setstate__``)."""

    def __init__(self) -> None:
        super().__init__(max_cached_type_adapters=0)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._type_adapter = _adapters

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self.converters = {
            encoding: _SharedAdapters() if isinstance(c, PydanticJSONPlainPayloadConverter) else c
            for encoding, c in self.converters.items()
        }
        for converter in self.converters.values():
            if isinstance(converter, _SharedAdapters):
                converter._type_adapter = _adapters


shared_pydantic_data_converter = DataConverter(
    payload_converter_class=SharedPydanticPayloadConverter
)
