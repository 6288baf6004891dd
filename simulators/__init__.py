"""Partner simulators for Borderflow.

One aiohttp application per partner (Odoo, TMS, EasyPost-style carrier, customs broker,
finance notifications), each speaking the wire format in ``docs/partners.md``. Run them all
with ``python -m simulators`` or in-process with :func:`simulators.app.start_simulators`.
"""
