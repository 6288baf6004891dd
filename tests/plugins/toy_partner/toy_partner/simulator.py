"""Toy Post, simulated: its REST API, and its webhooks pushed to Borderflow after a booking.

A booking is picked up after one story step and delivered (signed) after two
(``BORDERFLOW_SIM_TIME_SCALE`` seconds a step); each scan is posted to the API's webhook route
with our secret in ``X-Webhook-Token``. State is in memory.
"""

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import web

from simulators.settings import SimulatorSettings
from toy_partner import NAME
from toy_partner.settings import ToySettings

BOOKINGS = web.AppKey("bookings", dict)
TASKS = web.AppKey("tasks", set)


def create_app(settings: SimulatorSettings) -> web.Application:
    own = ToySettings()
    app = web.Application()
    app[BOOKINGS] = {}
    app[TASKS] = set()
    keys: dict[str, dict[str, Any]] = {}
    events: dict[str, list[dict[str, Any]]] = {}

    def authorized(request: web.Request) -> bool:
        key = own.toy_api_key.get_secret_value() if own.toy_api_key else ""
        return bool(key) and secrets.compare_digest(request.headers.get("X-Api-Key", ""), key)

    async def push(booking: dict[str, Any]) -> None:
        token = own.toy_webhook_secret.get_secret_value() if own.toy_webhook_secret else ""
        async with httpx.AsyncClient(timeout=10) as http:
            for step, status in enumerate(("picked_up", "delivered"), start=1):
                await asyncio.sleep(settings.sim_time_scale)
                event = {
                    "id": f"tev_{booking['id']}_{step}", "booking_id": booking["id"],
                    "tracking_number": booking["tracking_number"], "status": status,
                    "at": datetime.now(UTC).isoformat(),
                    "signed_by": "T. Oy" if status == "delivered" else None,
                }  # fmt: skip
                events[booking["id"]].append(event)
                for _ in range(20):  # until the API takes it
                    try:
                        reply = await http.post(settings.webhook_url(NAME), json={"event": event},
                                                headers={"X-Webhook-Token": token})  # fmt: skip
                        if reply.status_code < 500:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.5)

    async def book(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"error": "bad key"}, status=401)
        key = request.headers.get("Idempotency-Key", "")
        if key in keys:
            return web.json_response(keys[key], status=201)
        body = await request.json()
        number = len(app[BOOKINGS]) + 1
        booking = {
            "id": f"TOY-{number:06d}", "reference": str(body.get("reference", "")),
            "tracking_number": f"TOY{secrets.token_hex(5).upper()}", "status": "booked",
            "label_url": f"{request.url.origin()}/labels/TOY-{number:06d}.pdf",
            "charge": {"amount": "9.50", "currency": "EUR"},
        }  # fmt: skip
        app[BOOKINGS][booking["id"]] = keys[key] = booking
        events[booking["id"]] = []
        task = asyncio.create_task(push(booking))
        app[TASKS].add(task)
        task.add_done_callback(app[TASKS].discard)
        return web.json_response(booking, status=201)

    async def cancel(request: web.Request) -> web.Response:
        booking = app[BOOKINGS].get(request.match_info["id"])
        if booking is None:
            return web.json_response({"error": "no such booking"}, status=404)
        booking["status"] = "cancelled"
        return web.json_response(booking)

    async def show(request: web.Request) -> web.Response:
        booking = app[BOOKINGS].get(request.match_info["id"])
        if booking is None:
            return web.json_response({"error": "no such booking"}, status=404)
        return web.json_response(booking)

    async def listed(request: web.Request) -> web.Response:
        return web.json_response(list(app[BOOKINGS].values()))

    async def tracking(request: web.Request) -> web.Response:
        found = events.get(request.match_info["id"])
        if found is None:
            return web.json_response({"error": "no such booking"}, status=404)
        return web.json_response({"events": found})

    async def stop_stories(app: web.Application) -> None:
        for task in list(app[TASKS]):
            task.cancel()

    app.router.add_post("/v1/bookings", book)
    app.router.add_delete("/v1/bookings/{id}", cancel)
    app.router.add_get("/v1/bookings/{id}/events", tracking)
    app.router.add_get("/v1/bookings/{id}", show)
    app.router.add_get("/_sim/bookings", listed)
    app.on_shutdown.append(stop_stories)
    return app
