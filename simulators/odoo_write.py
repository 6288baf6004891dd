"""Writes on the in-memory Odoo store: create, write, delete and x2many commands.

Guarantees: every value is checked against its field before anything is stored (bad type,
unknown selection value, malformed date or dangling many2one id → ``ValidationError``;
unknown field → ``OdooValueError``); writes to computed or read-only fields are ignored with a
warning, as Odoo does; required fields must be set after create and cannot be cleared by
write. Callers wrap a whole RPC call in a snapshot so a failure leaves no partial change.
"""

import logging
from datetime import datetime
from typing import Any

from simulators.odoo_errors import OdooValueError, ValidationError
from simulators.odoo_models import X2MANY, FieldSpec
from simulators.odoo_store import DATE_FORMATS, OdooStore, now_string

logger = logging.getLogger(__name__)


def create_record(store: OdooStore, model: str, vals: Any) -> int:
    """Create one record from ``vals`` (after the model's create hook) and return its id."""
    spec = store.spec(model)
    if not isinstance(vals, dict):
        raise OdooValueError(f"{model}.create() expects a dict of values, got {vals!r}")
    vals = dict(vals)
    for name in vals:
        store.field(model, name)
    hook = store.hooks.create_defaults.get(model)
    if hook is not None:
        hook(store, vals)
    simple, relational = _split(store, model, vals)
    rec_id = store.next_ids[model]
    store.next_ids[model] = rec_id + 1
    record: dict[str, Any] = {}
    for name, fspec in spec.fields.items():
        if fspec.type in X2MANY or fspec.computed or fspec.readonly:
            continue
        if name in spec.defaults:
            record[name] = spec.defaults[name]
        elif fspec.type in ("float", "monetary"):
            record[name] = 0.0
        elif fspec.type == "integer":
            record[name] = 0
        else:
            record[name] = False
    record.update(simple)
    record["create_date"] = record["write_date"] = now_string()
    store.records[model][rec_id] = record
    _check_required(store, model, rec_id, list(spec.fields))
    for name, commands in relational.items():
        _apply_commands(store, model, rec_id, name, commands)
    return rec_id


def write_records(store: OdooStore, model: str, ids: list[int], vals: Any) -> None:
    """Apply ``vals`` to every record in ``ids`` (``MissingError`` if one does not exist)."""
    if not isinstance(vals, dict):
        raise OdooValueError(f"{model}.write() expects a dict of values, got {vals!r}")
    for name in vals:
        store.field(model, name)
    store.check_ids(model, ids)
    simple, relational = _split(store, model, dict(vals))
    for rec_id in ids:
        record = store.records[model][rec_id]
        record.update(simple)
        record["write_date"] = now_string()
        _check_required(store, model, rec_id, list(simple))
        for name, commands in relational.items():
            _apply_commands(store, model, rec_id, name, commands)


def delete_record(store: OdooStore, model: str, rec_id: int) -> None:
    """Remove a record and, recursively, one2many children whose inverse is required."""
    for name, fspec in store.models[model].fields.items():
        if fspec.type == "one2many" and fspec.comodel and fspec.inverse:
            for child in store.raw(model, rec_id, name):
                _detach(store, fspec, child)
    store.records[model].pop(rec_id, None)


def _split(
    store: OdooStore, model: str, vals: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    simple: dict[str, Any] = {}
    relational: dict[str, Any] = {}
    for name, value in vals.items():
        fspec = store.field(model, name)
        if fspec.computed or fspec.readonly:
            logger.warning("odoo: ignoring write to computed/read-only %s.%s", model, name)
        elif fspec.type in X2MANY:
            relational[name] = value
        else:
            simple[name] = convert(store, model, name, fspec, value)
    return simple, relational


def convert(store: OdooStore, model: str, name: str, fspec: FieldSpec, value: Any) -> Any:
    """The stored form of ``value`` for a non-x2many field, or ``ValidationError``."""

    def bad(reason: str) -> ValidationError:
        return ValidationError(f"Wrong value for {model}.{name}: {value!r} ({reason})")

    if value is None or value is False:
        if fspec.type in ("float", "monetary", "integer"):
            return 0.0 if fspec.type != "integer" else 0
        return False
    if fspec.type in ("char", "text"):
        if not isinstance(value, str):
            raise bad("expected a string")
        return value
    if fspec.type == "boolean":
        return bool(value)
    if fspec.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("expected an integer")
        return value
    if fspec.type in ("float", "monetary"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad("expected a number")
        return float(value)
    if fspec.type == "selection":
        if value not in fspec.selection:
            raise bad(f"expected one of {', '.join(fspec.selection)}")
        return value
    if fspec.type in DATE_FORMATS:
        try:
            datetime.strptime(value, DATE_FORMATS[fspec.type])
        except (TypeError, ValueError):
            raise bad(f"expected format {DATE_FORMATS[fspec.type]}") from None
        return value
    assert fspec.type == "many2one" and fspec.comodel is not None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad("expected a record id")
    if value not in store.records[fspec.comodel]:
        raise ValidationError(
            f"Wrong value for {model}.{name}: {fspec.comodel}({value},) does not exist"
        )
    return value


def _check_required(store: OdooStore, model: str, rec_id: int, names: list[str]) -> None:
    spec = store.models[model]
    for name in names:
        fspec = spec.fields[name]
        if fspec.required and store.records[model][rec_id].get(name) in (False, None, ""):
            raise ValidationError(
                "The operation cannot be completed: a mandatory field is not set.\n"
                f"Model: {spec.description} ({model})\nField: {fspec.string} ({name})"
            )


def _command_list(model: str, name: str, commands: Any) -> list[list[Any]]:
    if not isinstance(commands, list | tuple):
        raise ValidationError(f"Wrong value for {model}.{name}: expected a list of commands")
    if all(isinstance(c, int) and not isinstance(c, bool) for c in commands):
        return [[6, 0, list(commands)]]
    out = []
    for command in commands:
        if (
            not isinstance(command, list | tuple)
            or not command
            or command[0] not in range(7)
            or len(command) > 3
        ):
            raise ValidationError(f"Wrong value for {model}.{name}: bad command {command!r}")
        out.append([*command, 0, 0][:3])
    return out


def _apply_commands(store: OdooStore, model: str, rec_id: int, name: str, commands: Any) -> None:
    fspec = store.models[model].fields[name]
    assert fspec.comodel is not None
    comodel = fspec.comodel
    for code, target, payload in _command_list(model, name, commands):
        if code == 0:
            vals = dict(payload or {})
            if fspec.type == "one2many":
                assert fspec.inverse is not None
                vals[fspec.inverse] = rec_id
            child = create_record(store, comodel, vals)
            if fspec.type == "many2many":
                _m2m_set(store, model, rec_id, name, [*store.raw(model, rec_id, name), child])
        elif code in (1, 2, 3, 4):
            store.check_ids(comodel, [target])
            if code == 1:
                write_records(store, comodel, [target], payload or {})
            elif code == 2:
                delete_record(store, comodel, target)
            elif code == 3:
                _unlink(store, model, rec_id, name, fspec, target)
            else:
                _link(store, model, rec_id, name, fspec, target)
        else:
            wanted = list(payload or []) if code == 6 else []
            store.check_ids(comodel, wanted)
            for current in store.raw(model, rec_id, name):
                if current not in wanted:
                    _unlink(store, model, rec_id, name, fspec, current)
            for target_id in wanted:
                _link(store, model, rec_id, name, fspec, target_id)


def _link(store: OdooStore, model: str, rec_id: int, name: str, fspec: FieldSpec, t: int) -> None:
    if fspec.type == "one2many":
        assert fspec.comodel is not None and fspec.inverse is not None
        store.records[fspec.comodel][t][fspec.inverse] = rec_id
    elif t not in store.raw(model, rec_id, name):
        _m2m_set(store, model, rec_id, name, [*store.raw(model, rec_id, name), t])


def _unlink(store: OdooStore, model: str, rec_id: int, name: str, fspec: FieldSpec, t: int) -> None:
    if fspec.type == "one2many":
        _detach(store, fspec, t)
    else:
        _m2m_set(store, model, rec_id, name, [i for i in store.raw(model, rec_id, name) if i != t])


def _detach(store: OdooStore, fspec: FieldSpec, child: int) -> None:
    assert fspec.comodel is not None and fspec.inverse is not None
    if store.models[fspec.comodel].fields[fspec.inverse].required:
        delete_record(store, fspec.comodel, child)
    else:
        store.records[fspec.comodel][child][fspec.inverse] = False


def _m2m_set(store: OdooStore, model: str, rec_id: int, name: str, ids: list[int]) -> None:
    store.records[model][rec_id][name] = ids
