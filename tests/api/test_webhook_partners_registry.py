"""The API's webhook side is the partner registry's: one declaration per pushing partner,
three generated settings each, and a required partner's secret still required."""

import os
import subprocess
import sys

import pytest
from pydantic import SecretStr, ValidationError

from api.settings import ApiSettings, WebhookSecrets, webhook_settings
from api.webhook_partners import DECLARED, WEBHOOK_PARTNERS, Scheme, WebhookDeclaration
from canonical import partner_descriptor
from canonical.partners import pushing


def test_the_declarations_are_the_registrys_pushing_partners() -> None:
    assert Scheme is partner_descriptor.Scheme
    expected = tuple(
        WebhookDeclaration(
            p.name, p.dialect or "", p.webhook.scheme, p.webhook.required, p.webhook.base64_secret
        )
        for p in pushing()
        if p.webhook is not None
    )
    assert expected == WEBHOOK_PARTNERS
    assert {p.name for p in pushing()} == DECLARED
    assert {d.name for d in WEBHOOK_PARTNERS if d.required} == {"easypost", "broker"}
    assert [d.name for d in WEBHOOK_PARTNERS if d.base64_secret] == ["dcsa"]


def test_a_plugins_dialect_may_be_its_own_module() -> None:
    declared = WebhookDeclaration("toy", "toy_partner.dialect", Scheme.HEADER_TOKEN)
    assert declared.secret_env == "BORDERFLOW_TOY_WEBHOOK_SECRET"
    with pytest.raises(ValueError, match="dialect must be 'toy'"):
        WebhookDeclaration("toy", "easypost", Scheme.HEADER_TOKEN)


def test_every_pushing_partner_has_its_three_generated_settings() -> None:
    fields = ApiSettings.model_fields
    for declaration in WEBHOOK_PARTNERS:
        secret = fields[declaration.secret_setting]
        assert secret.is_required() is declaration.required, declaration.name
        assert not fields[declaration.previous_setting].is_required()
        assert not fields[declaration.sources_setting].is_required()
        assert declaration.secret_env == f"BORDERFLOW_{declaration.name.upper()}_WEBHOOK_SECRET"
    generated = {name for name in WebhookSecrets.model_fields if "_webhook_" in name}
    assert generated == {
        setting for d in WEBHOOK_PARTNERS
        for setting in (d.secret_setting, d.previous_setting, d.sources_setting)
    }  # fmt: skip


def test_the_settings_are_read_from_their_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for declaration in WEBHOOK_PARTNERS:
        monkeypatch.setenv(declaration.secret_env, f"{declaration.name}-secret")
        monkeypatch.setenv(f"{declaration.secret_env}_PREVIOUS", f"{declaration.name}-old")
        env = f"BORDERFLOW_{declaration.sources_setting.upper()}"
        monkeypatch.setenv(env, '["10.0.0.0/8"]')
    settings = ApiSettings(_env_file=None)
    for declaration in WEBHOOK_PARTNERS:
        read = webhook_settings(settings, declaration)
        assert read.secret == SecretStr(f"{declaration.name}-secret")
        assert read.previous == SecretStr(f"{declaration.name}-old")
        assert [str(network) for network in read.sources] == ["10.0.0.0/8"]


def test_unset_optional_settings_default_to_none_and_anywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [k for k in os.environ if "_WEBHOOK_" in k]:
        monkeypatch.delenv(name)
    settings = ApiSettings(_env_file=None, easypost_webhook_secret="e",  # type: ignore[call-arg]
                           broker_webhook_secret="b")  # fmt: skip
    aftership = webhook_settings(
        settings, next(d for d in WEBHOOK_PARTNERS if d.name == "aftership")
    )
    assert aftership.secret is None and aftership.previous is None
    assert [str(n) for n in aftership.sources] == ["0.0.0.0/0", "::/0"]


@pytest.mark.parametrize("missing", [d for d in WEBHOOK_PARTNERS if d.required], ids=str)
def test_a_required_secret_missing_fails_naming_its_setting(
    missing: WebhookDeclaration, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if "_WEBHOOK_" in k]:
        monkeypatch.delenv(name)
    given = {d.secret_setting: "s" for d in WEBHOOK_PARTNERS if d.required and d != missing}
    with pytest.raises(ValidationError) as failed:
        ApiSettings(_env_file=None, **given)  # type: ignore[arg-type]
    errors = failed.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [((missing.secret_setting,), "missing")]


def test_a_source_that_is_not_a_network_is_refused() -> None:
    with pytest.raises(ValidationError, match="shippo_webhook_sources"):
        ApiSettings(_env_file=None, easypost_webhook_secret="e",  # type: ignore[call-arg]
                    broker_webhook_secret="b",
                    shippo_webhook_sources=["not-a-network"])  # fmt: skip


def test_a_plugin_partner_is_normalized_by_its_own_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime
    from types import ModuleType

    import canonical.dialects as dialects
    import canonical.partners as registry
    from canonical.partner_descriptor import Partner, PartnerKind, Webhook

    normalized = object()
    module = ModuleType("toy_partner.dialect")
    module.normalize = lambda body, *, received_at: (normalized, body, received_at)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "toy_partner.dialect", module)
    toy = Partner("toy", PartnerKind.CARRIER, dialect="toy_partner.dialect",
                  webhook=Webhook(Scheme.HEADER_TOKEN))  # fmt: skip
    known = {p.name: p for p in (*registry.BUILT_IN, toy)}

    def partner(name: str) -> Partner:
        return known[name]

    monkeypatch.setattr(registry, "partner", partner)
    dialects._plugin_normalizer.cache_clear()
    try:
        at = datetime(2025, 1, 2, tzinfo=UTC)
        assert dialects.normalize("toy", b"{}", received_at=at) == (normalized, b"{}", at)
        with pytest.raises(dialects.MalformedPayload):  # the depth check comes first
            dialects.normalize("toy", b"[" * 100 + b"]" * 100, received_at=at)
        with pytest.raises(dialects.UnknownPartner):
            dialects.normalize("fedex", b"{}", received_at=at)
        with pytest.raises(dialects.UnknownPartner):  # in the registry, but no dialect module
            dialects.normalize("odoo", b"{}", received_at=at)
    finally:
        dialects._plugin_normalizer.cache_clear()


def test_importing_the_dialects_never_reads_the_registry() -> None:
    code = "import sys, canonical.dialects; assert 'canonical.partners' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
