"""Pure: the region profile and Kraken verification tiers.

Krakked runs under the US_CA region profile: spot only, so no margin, no
futures and no short selling. The execution layer consults the profile instead
of hard-coding those facts, so a plan that would need any of them is refused
with a reason rather than sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    """Kraken verification tier, which sets the REST and trading rate limits.

    ``unlimited`` turns client-side limiting off (tools, tests, the fake exchange).
    """

    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"
    UNLIMITED = "unlimited"


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionProfile:
    """What the account's region allows.

    >>> US_CA.supports_margin, US_CA.supports_shorting
    (False, False)
    """

    code: str
    supports_margin: bool
    supports_futures: bool
    supports_shorting: bool


US_CA = RegionProfile(
    code="US_CA", supports_margin=False, supports_futures=False, supports_shorting=False
)

REGIONS: dict[str, RegionProfile] = {US_CA.code: US_CA}
