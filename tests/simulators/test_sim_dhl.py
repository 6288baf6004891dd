"""DHL-style carrier: auth, validation, booking, search, documents, cancel, Unified tracking."""

import asyncio
import base64
import copy
from datetime import datetime
from typing import Any

import httpx
import pytest
from sim_support import SECRETS, assert_problem, poll_until, running, set_faults

from simulators.app import RunningSimulators

AUTH = {"DHL-API-Key": SECRETS["dhl_api_key"]}
PARTY: dict[str, Any] = {
    "postalAddress": {"addressLine1": "Am Sandtorkai 50", "cityName": "Hamburg",
                      "postalCode": "20457", "countryCode": "DE"},
    "contactInformation": {"companyName": "Borderflow Demo GmbH", "fullName": "Shipping Desk",
                           "email": "ops@example.com", "phone": "+49 40 555 0100"},
}  # fmt: skip
RECEIVER: dict[str, Any] = {
    "postalAddress": {"addressLine1": "1200 Harbor Way", "addressLine2": "Building C",
                      "cityName": "Oakland", "postalCode": "94607", "countryCode": "US"},
    "contactInformation": {"companyName": "Northwind Robotics Inc.", "fullName": "Receiving",
                           "email": "purchasing@example.com", "phone": "+1 510 555 0142"},
}  # fmt: skip
BOOKING: dict[str, Any] = {
    "plannedShippingDateAndTime": "2026-05-20T10:00:00 GMT+02:00",
    "productCode": "P",
    "customerReferences": [{"value": "S00001", "typeCode": "CU"}],
    "customerDetails": {"shipperDetails": PARTY, "receiverDetails": RECEIVER},
    "content": {
        "packages": [{"weight": 4.2, "dimensions": {"length": 40, "width": 30, "height": 20}}],
        "isCustomsDeclarable": True,
        "declaredValue": 1798.0,
        "declaredValueCurrency": "EUR",
        "incoterm": "CIP",
        "exportDeclaration": {
            "lineItems": [
                {
                    "number": 1,
                    "description": "Rugged laptop",
                    "price": 899.0,
                    "quantity": {"value": 2, "unitOfMeasurement": "PCS"},
                    "commodityCodes": [{"typeCode": "outbound", "value": "847130"}],
                    "manufacturerCountry": "CN",
                }
            ]
        },
    },
}
STORY = ["pre-transit", "transit", "transit", "transit", "transit", "delivered"]


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    return assert_problem(response, status, "instance")


async def book(http: httpx.AsyncClient, sims: RunningSimulators, **changes: Any) -> httpx.Response:
    return await http.post(
        f"{sims.url('dhl')}/shipments", json={**BOOKING, **changes}, headers=AUTH
    )


async def tracking(http: httpx.AsyncClient, sims: RunningSimulators, number: str) -> Any:
    response = await http.get(
        f"{sims.url('dhl')}/track/shipments", params={"trackingNumber": number}, headers=AUTH
    )
    assert response.status_code == 200
    [shipment] = response.json()["shipments"]
    return shipment


async def test_auth(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    body = problem(await http.post(f"{sims.url('dhl')}/shipments", json=BOOKING), 401)
    assert body["instance"] == "/shipments"
    wrong = {"DHL-API-Key": "nope"}
    problem(
        await http.get(f"{sims.url('dhl')}/track/shipments?trackingNumber=1", headers=wrong), 401
    )
    bearer = {"Authorization": f"Bearer {SECRETS['dhl_api_key']}"}
    problem(await http.get(f"{sims.url('dhl')}/shipments?customerReference=x", headers=bearer), 401)


async def test_validation(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    broken = copy.deepcopy(BOOKING)
    broken["productCode"] = "X"
    broken["customerDetails"]["receiverDetails"]["postalAddress"]["countryCode"] = "ZZ"
    broken["content"]["packages"][0]["weight"] = 0
    body = problem(await http.post(f"{sims.url('dhl')}/shipments", json=broken, headers=AUTH), 400)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {
        "productCode",
        "customerDetails.receiverDetails.postalAddress.countryCode",
        "content.packages[0].weight",
    }
    no_incoterm = copy.deepcopy(BOOKING)
    del no_incoterm["content"]["incoterm"]
    body = problem(await book(http, sims, content=no_incoterm["content"]), 400)
    assert [e["field"] for e in body["errors"]] == ["content"]
    assert "incoterm" in body["detail"]
    problem(await http.post(f"{sims.url('dhl')}/shipments", content=b"{", headers=AUTH), 400)
    problem(await http.get(f"{sims.url('dhl')}/shipments", headers=AUTH), 400)  # no reference
    problem(await http.get(f"{sims.url('dhl')}/track/shipments", headers=AUTH), 400)


async def test_booking_search_documents_and_story(
    http: httpx.AsyncClient, sims: RunningSimulators
) -> None:
    response = await book(http, sims)
    assert response.status_code == 201
    booking = response.json()
    assert set(booking) == {"shipmentTrackingNumber", "trackingUrl", "packages", "documents"}
    number = booking["shipmentTrackingNumber"]
    assert len(number) == 10 and number.isdigit()
    assert booking["packages"][0]["referenceNumber"] == 1
    assert booking["packages"][0]["trackingNumber"].startswith("JD")
    [label] = booking["documents"]
    assert (label["imageFormat"], label["typeCode"]) == ("PDF", "label")
    pdf = base64.b64decode(label["content"])
    assert pdf.startswith(b"%PDF-1.4") and number.encode() in pdf
    assert (await http.get(booking["trackingUrl"])).status_code == 200  # public page

    found = await http.get(f"{sims.url('dhl')}/shipments?customerReference=S00001", headers=AUTH)
    assert found.json() == {"shipments": [booking]}
    none = await http.get(f"{sims.url('dhl')}/shipments?customerReference=S09999", headers=AUTH)
    assert none.json() == {"shipments": []}
    docs = await http.get(f"{sims.url('dhl')}/shipments/{number}/documents", headers=AUTH)
    assert docs.json() == {"documents": booking["documents"]}
    problem(await http.get(f"{sims.url('dhl')}/shipments/1/documents", headers=AUTH), 404)

    async def delivered() -> bool:  # DHL pushes nothing: poll, as Borderflow does
        return bool((await tracking(http, sims, number))["status"]["statusCode"] == "delivered")

    await poll_until(delivered)
    shipment = await tracking(http, sims, number)
    assert shipment["id"] == number and shipment["service"] == "express"
    events = shipment["events"]
    assert [e["statusCode"] for e in reversed(events)] == STORY  # newest first
    assert shipment["status"] == events[0]
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    for event in events:
        assert datetime.fromisoformat(event["timestamp"]).utcoffset() is not None
        assert set(event["location"]["address"]) == {"addressLocality", "countryCode",
                                                      "postalCode"}  # fmt: skip
    assert events[-1]["location"]["address"]["addressLocality"] == "Hamburg"
    assert events[0]["location"]["address"]["countryCode"] == "US"
    pod = shipment["details"]["proofOfDelivery"]
    assert pod["signedBy"] == {"name": "J. SMITH"}
    assert pod["timestamp"] == events[0]["timestamp"]
    document = await http.get(pod["documentUrl"])
    assert document.headers["content-type"] == "application/pdf"
    problem(await http.delete(f"{sims.url('dhl')}/shipments/{number}", headers=AUTH), 409)


async def test_cancel(http: httpx.AsyncClient) -> None:
    async with running("http://127.0.0.1:9", sim_time_scale=0.2) as sims:  # pickup at 0.4 s
        number = (await book(http, sims)).json()["shipmentTrackingNumber"]
        first = await tracking(http, sims, number)  # before the first event (at 0.2 s)
        assert first["status"]["statusCode"] == "unknown" and first["events"] == []
        assert first["details"] == {}
        for _ in range(2):  # repeat-safe
            cancelled = await http.delete(f"{sims.url('dhl')}/shipments/{number}", headers=AUTH)
            assert cancelled.status_code == 200
            assert cancelled.json() == {"shipmentTrackingNumber": number, "status": "cancelled"}
        search = f"{sims.url('dhl')}/shipments?customerReference=S00001"
        assert (await http.get(search, headers=AUTH)).json() == {"shipments": []}  # live only
        events = len((await tracking(http, sims, number))["events"])
        await asyncio.sleep(0.5)
        assert len((await tracking(http, sims, number))["events"]) == events  # story stopped
        problem(await http.delete(f"{sims.url('dhl')}/shipments/0000000000", headers=AUTH), 404)
        body = problem(
            await http.get(f"{sims.url('dhl')}/track/shipments?trackingNumber=123", headers=AUTH),
            404,
        )
        assert body["instance"] == "/track/shipments"


@pytest.mark.parametrize("refusals", [1, 2])
async def test_reject_bookings(
    http: httpx.AsyncClient, sims: RunningSimulators, refusals: int
) -> None:
    await set_faults(http, sims.url("dhl"), reject_bookings=refusals)
    for _ in range(refusals):
        body = problem(await book(http, sims), 422)
        assert body["type"].endswith("/booking-refused")
    assert (await book(http, sims)).status_code == 201
    stored = (await http.get(f"{sims.url('dhl')}/_sim/shipments")).json()
    assert len(stored) == 1
    counters = (await http.get(f"{sims.url('dhl')}/_sim/faults")).json()["injected"]
    assert counters["reject_bookings"] == refusals
    log = (await http.get(f"{sims.url('dhl')}/_sim/requests")).json()
    assert [e["status"] for e in log] == [422] * refusals + [201]
