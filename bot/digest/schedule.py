"""When a channel's next digest is due: `immediate`, or cron in an IANA timezone.

croniter does the calendar arithmetic on timezone-aware datetimes. Two DST rules on top:
a wall-clock time skipped by spring-forward fires at the first valid moment after it
(croniter's behaviour), and a wall-clock time that occurs twice at fall-back fires once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

IMMEDIATE = "immediate"


def is_immediate(schedule: str) -> bool:
    return schedule.strip() == IMMEDIATE


def next_fire(schedule: str, timezone: str, after: datetime) -> datetime | None:
    """The first fire time strictly after `after` (UTC result); None for `immediate`."""
    if is_immediate(schedule):
        return None
    zone = ZoneInfo(timezone)
    local_after = after.astimezone(zone)
    it = croniter(schedule.strip(), local_after)
    previous_wall = local_after.replace(tzinfo=None)
    for _ in range(4):
        candidate: datetime = it.get_next(datetime)
        wall = candidate.replace(tzinfo=None)
        if wall == previous_wall or (candidate.fold == 0 and _repeats(candidate, zone, local_after)):
            previous_wall = wall
            continue
        return candidate.astimezone(UTC)
    return candidate.astimezone(UTC)


def _repeats(candidate: datetime, zone: ZoneInfo, after: datetime) -> bool:
    """True when `candidate` is the second occurrence of a wall time already passed."""
    wall = candidate.replace(tzinfo=None)
    first = wall.replace(fold=0).replace(tzinfo=zone)
    second = wall.replace(fold=1).replace(tzinfo=zone)
    if first.utcoffset() == second.utcoffset():
        return False  # not an ambiguous time
    return candidate.utcoffset() == second.utcoffset() and first <= after


def due(schedule: str, timezone: str, anchor: datetime, now: datetime) -> bool:
    """A digest is due when a fire time lies in (anchor, now]."""
    fire = next_fire(schedule, timezone, anchor)
    return fire is not None and fire <= now
