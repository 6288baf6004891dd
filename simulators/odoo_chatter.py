"""Chatter on Odoo records: ``message_post`` and ``activity_schedule``.

Guarantees (as Odoo 17 over RPC):

* ``message_post(ids, *, body, message_type="notification", subject=None, …)`` needs exactly
  one record (``builtins.ValueError`` "Expected singleton" otherwise), creates one
  ``mail.message`` (``model``, ``res_id``, ``body``, ``message_type``, author Administrator)
  and returns its id. Keyword arguments only, as in Odoo.
* ``activity_schedule(ids, act_type_xmlid="", date_deadline=None, summary="", note="",
  **act_values)`` creates one ``mail.activity`` per record (type from the XML id, To-Do when
  empty; unknown XML id → ``builtins.ValueError``; deadline today when omitted; assigned to
  the Administrator unless ``user_id`` is given) and returns the new activity ids.
* Both are served on every model that has a chatter here (:data:`CHATTER_MODELS`).
"""

from collections.abc import Callable, Mapping
from typing import Any

from simulators.clock import utc_now
from simulators.odoo_errors import OdooValueError
from simulators.odoo_seed import activity_type_id
from simulators.odoo_store import OdooStore, now_string
from simulators.odoo_write import create_record

CHATTER_MODELS = ("sale.order", "stock.picking", "account.move", "res.partner")
ADMIN_USER = 2
TODO = "mail.mail_activity_data_todo"


def _admin_partner(store: OdooStore) -> Any:
    user = store.records["res.users"].get(ADMIN_USER)
    return user["partner_id"] if user else False


def _message_post(model: str) -> Callable[..., int]:
    def message_post(
        store: OdooStore,
        ids: list[int],
        *,
        body: Any = "",
        subject: Any = None,
        message_type: Any = "notification",
        subtype_xmlid: Any = None,
        subtype_id: Any = None,
        partner_ids: Any = None,
        attachment_ids: Any = None,
        author_id: Any = None,
        email_from: Any = None,
        parent_id: Any = None,
        body_is_html: Any = False,
    ) -> int:
        if len(ids) != 1:
            shown = ", ".join(str(i) for i in ids)
            raise OdooValueError(f"Expected singleton: {model}({shown})")
        store.check_ids(model, ids)
        vals = {
            "model": model,
            "res_id": ids[0],
            "body": body or False,
            "subject": subject or False,
            "message_type": message_type,
            "author_id": author_id or _admin_partner(store),
            "date": now_string(),
        }
        return create_record(store, "mail.message", vals)

    return message_post


def _activity_schedule(model: str) -> Callable[..., list[int]]:
    def activity_schedule(
        store: OdooStore,
        ids: list[int],
        act_type_xmlid: Any = "",
        date_deadline: Any = None,
        summary: Any = "",
        note: Any = "",
        **act_values: Any,
    ) -> list[int]:
        store.check_ids(model, ids)
        type_id = act_values.pop("activity_type_id", None)
        if not type_id:
            type_id = activity_type_id(store, act_type_xmlid or TODO)
            if type_id is None:
                raise OdooValueError(f"External ID not found in the system: {act_type_xmlid}")
        deadline = date_deadline or utc_now().strftime("%Y-%m-%d")
        created = []
        for rec_id in ids:
            vals = {
                "user_id": ADMIN_USER,
                **act_values,
                "res_model": model,
                "res_id": rec_id,
                "activity_type_id": type_id,
                "summary": summary or False,
                "note": note or False,
                "date_deadline": deadline,
            }
            created.append(create_record(store, "mail.activity", vals))
        return created

    return activity_schedule


ACTIONS: Mapping[tuple[str, str], Callable[..., Any]] = {
    **{(m, "message_post"): _message_post(m) for m in CHATTER_MODELS},
    **{(m, "activity_schedule"): _activity_schedule(m) for m in CHATTER_MODELS},
}
