"""Partner simulators for Borderflow.

One aiohttp application per partner (Odoo, TMS, EasyPost-style and DHL-style carriers,
customs broker, finance notifications), each speaking the wire format in ``docs/partners.md``,
each with fault switches under ``/_sim/faults`` (see ``docs/simulators.md``). Which ones run is
the partner registry's (:func:`canonical.partners.simulated`, plugins included). Run them all
with ``python -m simulators`` or in-process with :func:`simulators.app.start_simulators`.
"""
