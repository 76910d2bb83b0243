"""The guarded fetcher: schemes, address policy, redirects, size and time caps.

The errors load with the package; the fetcher, resolver and URL checks (yarl, sockets)
load when first named, so a command that only catches FetchError never imports them.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from bot.net.addresses import Resolver, SystemResolver, forbidden_reason
    from bot.net.fetch import Fetcher, FetchResult
    from bot.net.urls import check_url

_LAZY = {"Resolver": "addresses", "SystemResolver": "addresses", "forbidden_reason": "addresses",
         "Fetcher": "fetch", "FetchResult": "fetch", "check_url": "urls"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"bot.net.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'bot.net' has no attribute {name!r}")


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
