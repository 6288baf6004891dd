"""Documents a shipment produces or needs: labels, invoices, declarations, proofs."""

from enum import StrEnum

from pydantic import Field

from canonical.base import CanonicalModel
from canonical.codes import Sha256


class DocumentType(StrEnum):
    LABEL = "label"
    COMMERCIAL_INVOICE = "commercial_invoice"
    PACKING_LIST = "packing_list"
    CUSTOMS_DECLARATION = "customs_declaration"
    AIR_WAYBILL = "air_waybill"
    BILL_OF_LADING = "bill_of_lading"
    PROOF_OF_DELIVERY = "proof_of_delivery"
    INVOICE = "invoice"


class DocumentFormat(StrEnum):
    PDF = "pdf"
    PNG = "png"
    ZPL = "zpl"
    JSON = "json"
    XML = "xml"


class Document(CanonicalModel):
    """A document held elsewhere: where it is and the hash that proves it unchanged."""

    type: DocumentType
    format: DocumentFormat
    uri: str = Field(min_length=1)
    sha256: Sha256 | None = None
