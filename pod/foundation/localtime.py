"""The service's civil time zone, in one place.

POD stores instants in UTC and counts "24 hours" as elapsed time; calendar questions ("the first
14 days", "today's meetings", a dashboard month, an assessment due date) are answered in the time
zone of the NHS services POD serves, England's. settings.TIME_ZONE is set from this constant, and
every module that needs the zone imports LONDON from here (plain data: rules.py stays pure).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

SERVICE_TIME_ZONE_NAME = "Europe/London"
LONDON = ZoneInfo(SERVICE_TIME_ZONE_NAME)
