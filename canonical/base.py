"""The one pydantic configuration every canonical model shares."""

from pydantic import BaseModel, ConfigDict


class CanonicalModel(BaseModel):
    """Base for canonical models: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
