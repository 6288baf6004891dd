"""Base for partner wire models: tolerant of fields we do not use, strict about those we do."""

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
