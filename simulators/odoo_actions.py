"""Every business method the Odoo simulator serves beyond the generic ORM.

An action is called as ``action(store, ids, *args, **kwargs)``; ``ids`` are the record ids
(``args[0]`` of ``execute_kw``, ``"ids"`` of JSON-2) and the rest are the method's own
arguments, checked against the action's signature before it runs. A model action
(``@api.model``, :data:`MODEL_ACTIONS`) is called as ``action(store, *args, **kwargs)``, takes
no record ids and is read-only.
"""

from collections.abc import Callable, Mapping
from typing import Any

from simulators import odoo_business, odoo_chatter, odoo_reversal

Action = Callable[..., Any]

MODEL_ACTIONS: Mapping[tuple[str, str], Action] = odoo_business.MODEL_ACTIONS
ACTIONS: Mapping[tuple[str, str], Action] = {
    **odoo_business.ACTIONS,
    **odoo_chatter.ACTIONS,
    **odoo_reversal.ACTIONS,
}
