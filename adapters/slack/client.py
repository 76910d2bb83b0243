"""The AsyncWebClient the whole adapter shares: our base_url, our session, our retry policy."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import limits

RATE_LIMIT_RETRIES = 3
REQUEST_TIMEOUT = 30  # seconds per Web API call


def retry_after(headers: object) -> float | None:
    """The Retry-After header (seconds) from slack_sdk's header mapping, if any."""
    if not hasattr(headers, "items"):
        return None
    for key, value in headers.items():  # type: ignore[attr-defined]
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


def api_error(exc: SlackApiError) -> str:
    """Slack's error code (`not_in_channel`, …); "" when the answer was not JSON (an HTTP 5xx page)."""
    data = exc.response.data
    return str(data.get("error") or "") if isinstance(data, dict) else ""


class CappedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (sleeps Retry-After + jitter), but only for short waits.

    A longer Retry-After surfaces as SlackApiError so the core can reschedule the delivery
    instead of the sender sleeping for an hour inside one call.
    """

    def __init__(
        self, max_retry_count: int = RATE_LIMIT_RETRIES, max_wait: float = limits.MAX_RATE_LIMIT_WAIT
    ):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        return wait is None or wait <= self.max_wait


def build_client(token: str | None, base_url: str, session: aiohttp.ClientSession) -> AsyncWebClient:
    """`token` None: a client for calls that carry their own credentials (the OAuth exchange)."""
    handlers: list[AsyncRetryHandler] = [AsyncConnectionErrorRetryHandler(), CappedRateLimitRetryHandler()]
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        timeout=REQUEST_TIMEOUT,
        retry_handlers=handlers,
    )
