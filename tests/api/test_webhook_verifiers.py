"""The webhook declarations and verifiers, offline: every declaration has its settings, each
scheme refuses malformed credentials without raising, and a secret that cannot work fails the
start rather than every webhook."""

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from api.settings import ApiSettings
from api.signatures import verify_aftership, verify_dcsa, verify_token
from api.webhook_auth import Presented, webhook_partners
from api.webhook_partners import WEBHOOK_PARTNERS, WebhookDeclaration
from canonical.dialects import PARTNERS
from cli.local_env import SECRET_NAMES, load_or_create_secrets, new_secret
from simulators.signing import sign_aftership, sign_dcsa, sign_easypost

BODY = b'{"event":"tracking_update"}'
KEY = base64.b64encode(bytes(range(64))).decode()


def settings(**secrets: str | None) -> ApiSettings:
    required = {"easypost_webhook_secret": "e", "broker_webhook_secret": "b"}
    return ApiSettings(_env_file=None, **{**required, **secrets})  # type: ignore[call-arg]


def test_every_declaration_has_its_three_settings_and_a_generated_secret() -> None:
    fields = ApiSettings.model_fields
    for declaration in WEBHOOK_PARTNERS:
        for name in (declaration.secret_setting, declaration.previous_setting,
                     declaration.sources_setting):  # fmt: skip
            assert name in fields, name
        assert fields[declaration.secret_setting].is_required() is declaration.required
        assert declaration.secret_env in SECRET_NAMES
    assert {d.name for d in WEBHOOK_PARTNERS} == set(PARTNERS)  # every dialect is received


def test_a_declaration_names_a_real_dialect() -> None:
    with pytest.raises(ValueError, match="no dialect"):
        WebhookDeclaration("fedex", "fedex", WEBHOOK_PARTNERS[0].scheme)


def test_a_partner_whose_secret_is_unset_has_no_verifier() -> None:
    assert set(webhook_partners(settings())) == {"easypost", "broker"}
    assert "aftership" in webhook_partners(settings(aftership_webhook_secret="a"))
    assert "aftership" not in webhook_partners(settings(aftership_webhook_secret=""))


def test_a_dcsa_secret_that_is_not_base64_fails_the_start_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="BORDERFLOW_DCSA_WEBHOOK_SECRET"):
        webhook_partners(settings(dcsa_webhook_secret="not base64!"))
    generated = new_secret("BORDERFLOW_DCSA_WEBHOOK_SECRET")
    assert len(base64.b64decode(generated, validate=True)) == 64
    assert "dcsa" in webhook_partners(settings(dcsa_webhook_secret=generated))


def test_aftership_is_base64_hmac_of_the_raw_body() -> None:
    expected = base64.b64encode(hmac.new(b"s3cret", BODY, hashlib.sha256).digest()).decode()
    assert sign_aftership("s3cret", BODY) == expected
    assert verify_aftership("s3cret", {"aftership-hmac-sha256": expected}, BODY)
    assert not verify_aftership("other", {"aftership-hmac-sha256": expected}, BODY)
    assert not verify_aftership("s3cret", {"aftership-hmac-sha256": expected}, BODY + b" ")
    for garbage in ("", expected[:-1], expected + "=", "é" * 44, "\udcff" * 44, "x" * 10_000):
        assert not verify_aftership("s3cret", {"aftership-hmac-sha256": garbage}, BODY)


def test_dcsa_is_sha256_prefixed_hex_keyed_by_the_subscription_secret_bytes() -> None:
    key = base64.b64decode(KEY)
    digest = hmac.new(key, BODY, hashlib.sha256).hexdigest()
    assert sign_dcsa(KEY, BODY) == f"sha256={digest}"
    for header in (f"sha256={digest}", f"SHA256={digest.upper()}", f" sha256={digest} "):
        assert verify_dcsa(key, {"Notification-Signature": header}, BODY), header
    for garbage in ("", digest, f"sha1={digest}", f"sha256={digest[:-1]}", "sha256=" + "٣" * 64,
                    f"plain={KEY}"):  # fmt: skip
        assert not verify_dcsa(key, {"Notification-Signature": garbage}, BODY), garbage


def test_a_shared_token_is_compared_whole_and_never_raises() -> None:
    assert verify_token("tøken", "tøken")
    for presented in ("", "tøke", "tøkenn", "\udcff", "\ud800", "x" * 10_000):
        assert not verify_token("tøken", presented), presented
    assert not verify_token("", "")


def test_during_a_rotation_both_secrets_hold_and_no_other() -> None:
    partner = webhook_partners(
        settings(aftership_webhook_secret="new", aftership_webhook_secret_previous="old")
    )["aftership"]
    for secret, accepted in (("new", True), ("old", True), ("retired", False)):
        presented = Presented({"aftership-hmac-sha256": sign_aftership(secret, BODY)}, {}, BODY)
        assert partner.verify(presented) is accepted, secret


def test_the_easypost_simulator_normalizes_the_secret_as_easypost_and_the_api_do() -> None:
    partner = webhook_partners(settings(easypost_webhook_secret="ﬁ-Å"))["easypost"]
    for signed_with in ("ﬁ-Å", "ﬁ-Å".encode(), "fi-A\u030a"):  # all NFKD-equal
        header = {"X-Hmac-Signature": sign_easypost(signed_with, BODY)}
        assert partner.verify(Presented(header, {}, BODY)), signed_with


def test_the_secrets_borderflow_up_generates_configure_every_partner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in load_or_create_secrets(tmp_path / "local.env").items():
        monkeypatch.setenv(name, value)  # as `borderflow up` passes them to the API process
    configured = webhook_partners(ApiSettings(_env_file=None))  # type: ignore[call-arg]
    assert set(configured) == {d.name for d in WEBHOOK_PARTNERS}
