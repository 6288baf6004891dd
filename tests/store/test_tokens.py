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


def test_tokens_that_are_not_well_formed_ascii_are_refused_without_a_look_up(
    engine: Engine,
) -> None:
    row, token = create_token(engine, Role.ADMIN, "admin")
    secret = token.split(".", 1)[1]
    for bad in (f"bf_{row.id}.{secret}\udcff", f"bf_{row.id}.é", f"bf_{row.id}é.{secret}",
                f"bf_{row.id}\udcff.{secret}", f"bf_{'a' * 40}.{secret}", f" {token}",
                f"bf_{row.id}.{secret}\n"):  # fmt: skip
        assert authenticate(engine, bad) is None, bad
    assert authenticate(engine, token) is not None
