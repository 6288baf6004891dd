from datetime import timedelta

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.errors import PARTNER_REJECTED, PARTNER_UNAVAILABLE, raise_for_status


def response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def test_2xx_passes() -> None:
    raise_for_status("tms", response(201), "")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_business_errors(status: int) -> None:
    with pytest.raises(ApplicationError) as caught:
        raise_for_status("tms", response(status), "nope")
    assert caught.value.non_retryable
    assert caught.value.type == PARTNER_REJECTED
    assert "nope" in caught.value.message


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    with pytest.raises(ApplicationError) as caught:
        raise_for_status("tms", response(status), "down")
    assert not caught.value.non_retryable
    assert caught.value.type == PARTNER_UNAVAILABLE


def test_429_retries_after_the_delay_the_partner_asked_for() -> None:
    with pytest.raises(ApplicationError) as caught:
        raise_for_status("easypost", response(429, **{"Retry-After": "7"}), "slow down")
    assert not caught.value.non_retryable
    assert caught.value.next_retry_delay == timedelta(seconds=7)
