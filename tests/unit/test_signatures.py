import hashlib
import hmac

from api.signatures import verify_broker, verify_easypost

BODY = b'{"id": "evt_1"}'


def easypost_header(secret: str, body: bytes) -> str:
    return "hmac-sha256-hex=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def broker_header(secret: str, body: bytes, t: int) -> str:
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def test_easypost_signature_accepts_only_the_exact_body_and_secret() -> None:
    header = {"X-Hmac-Signature": easypost_header("s3cret", BODY)}
    assert verify_easypost("s3cret", header, BODY)
    assert not verify_easypost("other", header, BODY)
    assert not verify_easypost("s3cret", header, BODY + b" ")
    assert not verify_easypost("s3cret", {}, BODY)
    assert not verify_easypost("s3cret", {"X-Hmac-Signature": "sha256=abc"}, BODY)


def test_broker_signature_checks_the_timestamp_both_ways() -> None:
    now = 1_800_000_000
    for skew, accepted in [(0, True), (-299, True), (299, True), (-301, False), (301, False)]:
        header = {"X-Broker-Signature": broker_header("k", BODY, now + skew)}
        assert verify_broker("k", header, BODY, now=now) is accepted, skew


def test_broker_signature_rejects_tampering_and_garbage() -> None:
    now = 1_800_000_000
    header = {"X-Broker-Signature": broker_header("k", BODY, now)}
    assert not verify_broker("k", header, b'{"id": "evt_2"}', now=now)
    assert not verify_broker("wrong", header, BODY, now=now)
    for garbage in ["", "t=abc,v1=00", "v1=00", f"t={now}", "nonsense"]:
        assert not verify_broker("k", {"X-Broker-Signature": garbage}, BODY, now=now)


def test_headers_that_cannot_be_a_signature_are_refused_without_raising() -> None:
    now = 1_800_000_000
    digest = hmac.new(b"k", f"{now}.".encode() + BODY, hashlib.sha256).hexdigest()
    for value in ("hmac-sha256-hex=é", "hmac-sha256-hex=\udcff", "hmac-sha256-hex=" + "a" * 9000):
        assert not verify_easypost("s3cret", {"X-Hmac-Signature": value}, BODY)
    arabic = str(now).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    arabic_digest = hmac.new(b"k", arabic.encode() + b"." + BODY, hashlib.sha256).hexdigest()
    for garbage in [f"t={now},v1=é", f"t={now},v1=\udcff", f"t={arabic},v1={arabic_digest}",
                    "t=١٢٣,v1=" + digest, f"t={'9' * 5000},v1={digest}"]:  # fmt: skip
        assert not verify_broker("k", {"X-Broker-Signature": garbage}, BODY, now=now), garbage
    assert verify_broker("k", {"X-Broker-Signature": f"t={now},v1={digest}"}, BODY, now=now)
