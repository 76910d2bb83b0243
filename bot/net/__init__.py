"""The guarded fetcher: schemes, address policy, redirects, size and time caps."""

from bot.net.addresses import Resolver, SystemResolver, forbidden_reason
from bot.net.errors import (
    BadURL,
    BlockedAddress,
    ConnectFailed,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
)
from bot.net.fetch import Fetcher, FetchResult
from bot.net.urls import check_url

__all__ = [
    "BadURL",
    "BlockedAddress",
    "ConnectFailed",
    "FetchError",
    "FetchResult",
    "FetchTimeout",
    "Fetcher",
    "HTTPStatusError",
    "Resolver",
    "SystemResolver",
    "TooLarge",
    "TooManyRedirects",
    "check_url",
    "forbidden_reason",
]
