"""Every write to episodes, meetings and their record. Views, admin, tasks and the demo data call
these; reads live in meetings.selectors.

One module per entity; import from the module itself (`from meetings.services.meetings import
meeting_schedule`), so a reader sees where a write lives:

- `clock`: the 24-hour clock fields an episode stores, recomputed after every change.
- `episodes`: referral intake (find or register the person), opening and closing an episode,
  and the row lock every other write takes first.
- `meetings`: scheduling (one meeting, a daily run), recording a meeting held, its attendance.
- `meeting_messages`: what a meeting's network is told (invitation, change, cancellation, a
  daily run's one invitation), owed through the outbox in the change's transaction.
- `prescriptions`: prescribing under the 3-meetings-before-medication rule.
- `care_plans`: versions of the care plan, written in a held meeting.
- `dialogic_record`: what was said in a meeting (utterances) and what was decided.

Each write is `<entity>_<action>`, atomic, and calls `full_clean()` before it saves.
"""
