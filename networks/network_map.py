"""The network map: the person at the centre, members in rings by closeness and in sectors by
category, drawn as server-rendered SVG (templates/networks/map/_svg.html) with the same members
as an accessible table; and dated snapshots of how the network changed since referral.

Pure layout: no database access here. The view loads the members once (networks.selectors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypedDict

from networks import rules
from networks.models import NetworkMember
from networks.selectors import members_as_of
from pod.foundation.localtime import LONDON

# Wider than tall: labels of outer-ring members run outwards to the left and right.
WIDTH, HEIGHT = 800, 680
CENTRE_X, CENTRE_Y = WIDTH / 2, HEIGHT / 2
# Ring radii by closeness: 1 very close, 2 close, 3 less close.
RING_RADIUS = {1: 115, 2: 190, 3: 262}
PERSON_RADIUS = 34
NODE_RADIUS = 12
SECTOR_DEGREES = 360 / len(rules.SECTORS)
# Patterns (not only colour) tell sectors apart on a black-and-white print: (fill, pattern).
SECTOR_STYLE = {
    "family": ("#cfe2ff", ""),
    "friends": ("#d1e7dd", "hatch"),
    "community": ("#fff3cd", "dots"),
    "peers": ("#f8d7da", "cross"),
    "professionals": ("#e2e3e5", "vertical"),
}


@dataclass
class Node:
    member: NetworkMember
    sector: str
    x: float
    y: float
    label_x: float
    label_y: float
    anchor: str
    short_name: str


class Spoke(TypedDict):
    """Where a sector's label runs: along its first edge, turned so it never reads upside down."""

    rotate: float  # degrees
    x: float
    y: float
    anchor: str  # SVG text-anchor


class Sector(TypedDict):
    """One sector's wedge on the map."""

    key: str
    label: str
    fill: str  # CSS colour
    pattern: str  # SVG pattern id ("" for none)
    path: str  # SVG path of the wedge
    spoke: Spoke


class Ring(TypedDict):
    closeness: int
    radius: int
    label: str


class MapDrawing(TypedDict):
    """What the SVG template (templates/networks/map/_svg.html) draws."""

    width: int
    height: int
    cx: float
    cy: float
    nodes: list[Node]
    sectors: list[Sector]
    rings: list[Ring]
    node_radius: int
    person_radius: int


class TableRow(TypedDict):
    """One member in the map's text alternative."""

    member: NetworkMember
    sector: str
    closeness: str
    sort: tuple[int, int, str]


class Snapshot(TypedDict):
    """A dated view of the network the map can show."""

    key: str  # the ?at= value: "referral", "YYYY-MM-DD" or "now"
    label: str
    at: datetime


class Changes(TypedDict):
    """Who joined and who left the network between two instants."""

    joined: list[NetworkMember]
    left: list[NetworkMember]


def _point(radius: float, degrees: float) -> tuple[float, float]:
    # 0 degrees points straight up; angles grow clockwise (as on a clock face).
    rad = math.radians(degrees - 90)
    return round(CENTRE_X + radius * math.cos(rad), 1), round(CENTRE_Y + radius * math.sin(rad), 1)


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def layout(members: list[NetworkMember]) -> MapDrawing:
    """Place each member: sector by category, ring by closeness, spread evenly within its cell.

    Returns the context the SVG template needs: nodes, sector wedges (path + label position) and
    ring radii. Deterministic: the same network always draws the same map (members sorted by
    closeness, name, id), so dated snapshots can be compared by eye.
    """
    cells: dict[tuple[str, int], list[NetworkMember]] = {}
    for member in sorted(members, key=lambda m: (m.closeness, m.name.lower(), m.pk or 0)):
        sector = rules.SECTOR_OF_CATEGORY.get(member.category, "community")
        ring = member.closeness if member.closeness in RING_RADIUS else 3
        cells.setdefault((sector, ring), []).append(member)

    nodes: list[Node] = []
    sector_index = {key: i for i, (key, _label, _cats) in enumerate(rules.SECTORS)}
    for (sector, ring), cell in cells.items():
        start = sector_index[sector] * SECTOR_DEGREES
        step = SECTOR_DEGREES / (len(cell) + 1)
        for i, member in enumerate(cell, start=1):
            # Stagger alternate members slightly in and out so crowded cells stay legible.
            radius = RING_RADIUS[ring] + (0 if len(cell) < 4 else (-14 if i % 2 else 14))
            degrees = start + step * i
            x, y = _point(radius, degrees)
            lx, ly = _point(radius + NODE_RADIUS + 4, degrees)
            anchor = (
                "start"
                if math.sin(math.radians(degrees)) > 0.15
                else ("end" if math.sin(math.radians(degrees)) < -0.15 else "middle")
            )
            nodes.append(Node(member, sector, x, y, lx, ly + 4, anchor, _short(member.name)))

    sectors: list[Sector] = []
    outer = RING_RADIUS[3] + 28
    for i, (key, label, _cats) in enumerate(rules.SECTORS):
        a0, a1 = i * SECTOR_DEGREES, (i + 1) * SECTOR_DEGREES
        x0, y0 = _point(outer, a0)
        x1, y1 = _point(outer, a1)
        # The label runs along the sector's first edge, like a spoke, just inside the sector:
        # members are never drawn on an edge, so it stays clear of them. Text on the left half
        # is turned round so it never reads upside down.
        flipped = 180 < a0 < 360
        rotate = (a0 + 90) if flipped else (a0 - 90)
        spoke = Spoke(
            rotate=rotate,
            x=CENTRE_X - PERSON_RADIUS - 10 if flipped else CENTRE_X + PERSON_RADIUS + 10,
            y=CENTRE_Y - 5 if flipped else CENTRE_Y + 17,
            anchor="end" if flipped else "start",
        )
        fill, pattern = SECTOR_STYLE[key]
        sectors.append(
            Sector(
                key=key,
                label=label,
                fill=fill,
                pattern=pattern,
                path=f"M {CENTRE_X} {CENTRE_Y} L {x0} {y0} A {outer} {outer} 0 0 1 {x1} {y1} Z",
                spoke=spoke,
            )
        )
    return MapDrawing(
        width=WIDTH,
        height=HEIGHT,
        cx=CENTRE_X,
        cy=CENTRE_Y,
        nodes=nodes,
        sectors=sectors,
        rings=[
            Ring(closeness=c, radius=r, label=str(NetworkMember.Closeness(c).label))
            for c, r in RING_RADIUS.items()
        ],
        node_radius=NODE_RADIUS,
        person_radius=PERSON_RADIUS,
    )


def table_rows(nodes: list[Node]) -> list[TableRow]:
    """The map as a table (its text alternative), ordered by sector then closeness."""
    order = {key: i for i, (key, _label, _cats) in enumerate(rules.SECTORS)}
    labels = {key: label for key, label, _cats in rules.SECTORS}
    rows = [
        TableRow(
            member=n.member,
            sector=labels[n.sector],
            closeness=n.member.get_closeness_display(),
            sort=(order[n.sector], n.member.closeness, n.member.name.lower()),
        )
        for n in nodes
    ]
    return sorted(rows, key=lambda r: r["sort"])


def end_of_day(day: date, now: datetime) -> datetime:
    """The last instant of a London calendar day, or now if the day is today or later."""
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=LONDON) - timedelta(
        microseconds=1
    )
    return min(end, now)


def snapshots(
    members: list[NetworkMember], *, baseline_at: datetime | None, now: datetime
) -> list[Snapshot]:
    """The dated snapshots worth showing, oldest first: "at referral" (the baseline), the end of
    every London day on which the network changed after it (a member joined or left), and
    "now"."""
    days: set[date] = set()
    for m in members:
        if m.joined_at is not None and m.joined_at == m.ended_at:
            continue  # a declined proposal never changed the network
        joined = m.joined_at or (None if m.status == m.Status.PROPOSED else m.added_at)
        for moment in (joined, m.ended_at):
            if (
                moment is not None
                and moment < now
                and (baseline_at is None or moment > baseline_at)
            ):
                days.add(moment.astimezone(LONDON).date())
    today = now.astimezone(LONDON).date()
    items: list[Snapshot] = []
    if baseline_at is not None and baseline_at < now:
        items.append(Snapshot(key="referral", label="At referral", at=baseline_at))
    for day in sorted(days):
        if day != today:
            items.append(
                Snapshot(key=day.isoformat(), label=f"{day:%-d %b %Y}", at=end_of_day(day, now))
            )
    items.append(Snapshot(key="now", label="Now", at=now))
    return items


def changes_between(members: list[NetworkMember], *, start: datetime, end: datetime) -> Changes:
    """Who joined and who left the network between two instants."""
    before = {m.pk for m in members_as_of(members, start)}
    after = {m.pk for m in members_as_of(members, end)}
    by_pk = {m.pk: m for m in members}
    return Changes(
        joined=[by_pk[pk] for pk in sorted(after - before)],
        left=[by_pk[pk] for pk in sorted(before - after)],
    )
