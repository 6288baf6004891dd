"""Who signed for a delivery: a person's name, or a carrier's placeholder that names nobody.

Carriers (and the aggregators that relay them) fill the signer field with words that are not a
person when nobody signed: AfterShip relays FedEx's ``"Signature not required"``, UPS puts
``"DRIVER RELEASE"`` in ``SignedForByName`` when the driver left the parcel on a release.

Guarantees:

- :data:`PLACEHOLDER_SIGNERS` is data: the placeholders, as vendors spell them;
- a signer is compared after :func:`folded` (case, punctuation and runs of blanks ignored), so
  ``"SIGNATURE NOT REQUIRED"``, ``"Signature not required."`` and ``"N/A"`` / ``"n.a."`` match;
- :func:`person` is the signer stripped, or None when it is empty or a placeholder; a real name
  is never altered (``"..KOSUTOKO"``, a FedEx Japan signer, stays as the carrier wrote it).
"""

__all__ = ["PLACEHOLDER_SIGNERS", "folded", "is_placeholder", "person"]

PLACEHOLDER_SIGNERS: tuple[str, ...] = (
    # AfterShip (relaying FedEx Home Delivery): aftership-sdk-go tracking test data.
    "Signature not required",
    # UPS Tracking API, ActivityLocation.SignedForByName on a driver release.
    "DRIVER RELEASE",
    "Driver released",
    "Released",
    # Spellings carriers use for "nobody signed" / "signature waived".
    "No signature",
    "No signature required",
    "Not required",
    "Signature waived",
    "Signature waiver",
    "Signature on file",
    "Left at door",
    "Front door",
    "N/A",
    "None",
)
"""Signer values that are not a person (any case, punctuation ignored)."""


def folded(value: str) -> str:
    """``value`` lower-cased, letters and digits only, words separated by one blank."""
    kept = "".join(char if char.isalnum() else " " if char.isspace() else "" for char in value)
    return " ".join(kept.casefold().split())


_FOLDED = frozenset(folded(placeholder) for placeholder in PLACEHOLDER_SIGNERS)


def is_placeholder(signed_by: str) -> bool:
    """Whether ``signed_by`` is one of :data:`PLACEHOLDER_SIGNERS` rather than a person."""
    return folded(signed_by) in _FOLDED


def person(signed_by: str | None) -> str | None:
    """The signer's name, or None when there is none or it is a placeholder."""
    signer = (signed_by or "").strip()
    if not signer or is_placeholder(signer):
        return None
    return signer
