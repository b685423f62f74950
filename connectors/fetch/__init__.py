"""The guarded fetcher: every server-side fetch of a URL someone else chose goes through it."""

from connectors.fetch.errors import FetchFailed, FetchRefused, FetchTooLarge
from connectors.fetch.fetcher import GuardedFetcher, check_url
from connectors.fetch.policy import FetchPolicy

__all__ = ["FetchFailed", "FetchPolicy", "FetchRefused", "FetchTooLarge", "GuardedFetcher",
           "check_url"]
