"""A carrier's placeholder signer ("Signature not required"…) is not a person: no signer kept."""

import pytest
from dialect_support import Dialect, mutate

from canonical.dialects.signers import PLACEHOLDER_SIGNERS, is_placeholder, person
from canonical.dialects.wire import proof
from canonical.milestones import Milestone

SPELLINGS = [
    "Signature not required",  # AfterShip relaying FedEx (aftership-sdk-go test data)
    "SIGNATURE NOT REQUIRED",
    "signature not required.",
    "DRIVER RELEASE",  # UPS SignedForByName
    "Released",
    "N/A",
    "n.a.",
    "Left at door",
    "No signature",
    "Signature on file",
    "  signature   waived ",
]


@pytest.mark.parametrize("signer", SPELLINGS)
def test_placeholders_are_not_people(signer: str) -> None:
    assert is_placeholder(signer)
    assert person(signer) is None
    unsigned = proof(signer)  # the carrier confirms a delivery nobody signed for
    assert unsigned is not None and unsigned.signed_by is None
    pod = proof(signer, "https://pod.example/1.pdf")
    assert pod is not None and (pod.signed_by, pod.document_uri) == (
        None,
        "https://pod.example/1.pdf",
    )


@pytest.mark.parametrize("signer", ["J. SMITH", "M. MUELLER", "..KOSUTOKO", "Nadia", "Noné"])
def test_real_names_are_kept_as_written(signer: str) -> None:
    assert not is_placeholder(signer)
    assert person(f"  {signer} ") == signer
    pod = proof(signer, "https://pod.example/1.pdf")
    assert pod is not None
    assert (pod.signed_by, pod.document_uri) == (signer, "https://pod.example/1.pdf")


@pytest.mark.parametrize("signer", [None, "", "   "])
def test_no_signer_is_no_proof(signer: str | None) -> None:
    assert person(signer) is None
    assert proof(signer) is None


def test_every_listed_placeholder_is_recognised() -> None:
    assert all(is_placeholder(placeholder) for placeholder in PLACEHOLDER_SIGNERS)


@pytest.mark.parametrize(
    ("partner", "fixture", "path"),
    [
        ("aftership", "tracking_update.json", ("msg", "signed_by")),
        ("easypost", "delivered.json", ("result", "signed_by")),
        (
            "dhl",
            "delivered.json",
            ("shipments", 0, "details", "proofOfDelivery", "signedBy", "name"),
        ),
    ],
)
def test_every_dialect_records_a_placeholder_delivery_without_a_signer(
    partner: str, fixture: str, path: tuple[str | int, ...]
) -> None:
    dialect = Dialect(partner)
    real = dialect.run(dialect.fixture(fixture)).events[-1]
    assert real.milestone is Milestone.DELIVERED
    assert real.proof_of_delivery is not None
    for placeholder in ("Signature not required", "SIGNATURE NOT REQUIRED", "DRIVER RELEASE"):
        delivered = dialect.run(mutate(dialect.fixture(fixture), path, placeholder)).events[-1]
        assert delivered.milestone is Milestone.DELIVERED
        pod = delivered.proof_of_delivery
        assert pod is not None and pod.signed_by is None  # delivered, nobody signed
        assert delivered.event_id == real.event_id
