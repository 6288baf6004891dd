"""The one pydantic configuration every canonical model shares."""

from pydantic import BaseModel, ConfigDict


class CanonicalModel(BaseModel):
    """Base for canonical models: strict types, unknown fields are errors, values are immutable.

    Strict means no silent coercion: ``"2"`` is not an integer and ``2.5`` is not a string.
    JSON input (the API, Temporal payloads) may still carry decimals and datetimes as strings;
    code that builds models from Python dicts of partner data validates with ``strict=False``
    on purpose, at that boundary.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, str_strip_whitespace=True)
