"""The two ways a partner payload is refused before it reaches a workflow."""


class UnknownPartner(KeyError):
    """No dialect is registered under this partner name."""

    def __init__(self, partner: str, known: tuple[str, ...]) -> None:
        super().__init__(partner)
        self.partner = partner
        self.known = known

    def __str__(self) -> str:
        return f"unknown partner {self.partner!r} (known: {', '.join(self.known)})"


class MalformedPayload(ValueError):
    """A body that is not the partner's documented shape.

    ``str(err)`` is one line: ``"<partner> payload: <field>: <what is wrong>"``. ``field`` is the
    dotted path of the offending field (``None`` when the body is not JSON at all). When pydantic
    or the JSON decoder found the problem, their exception is ``__cause__``.
    """

    def __init__(self, partner: str, field: str | None, problem: str) -> None:
        self.partner = partner
        self.field = field
        self.problem = " ".join(problem.split())
        where = f"{field}: " if field else ""
        super().__init__(f"{partner} payload: {where}{self.problem}")

    @property
    def not_json(self) -> bool:
        """True when the body is not JSON at all (HTTP 400 rather than 422)."""
        return self.field is None
