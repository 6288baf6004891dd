from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.tokens import ApiToken, Role, authenticate, create_token, list_tokens, revoke_token


def test_a_token_authenticates_by_its_secret_which_is_stored_only_hashed(engine: Engine) -> None:
    row, token = create_token(engine, Role.OPS, "ops laptop")
    assert token.startswith(f"bf_{row.id}.")
    found = authenticate(engine, token)
    assert found is not None and found.role == Role.OPS and found.name == "ops laptop"
    with Session(engine) as session:
        stored = session.get(ApiToken, row.id)
    assert stored is not None and token.split(".", 1)[1] not in stored.secret_sha256
    assert row.id in {t.id for t in list_tokens(engine)}


def test_wrong_malformed_and_revoked_tokens_are_refused(engine: Engine) -> None:
    row, token = create_token(engine, Role.SUPPORT, "support")
    for bad in (token + "x", f"bf_{row.id}.nope", "bf_unknown.secret", "", "Bearer x", "bf_x"):
        assert authenticate(engine, bad) is None, bad
    assert revoke_token(engine, row.id) is True
    assert authenticate(engine, token) is None
    assert revoke_token(engine, row.id) is False
