"""The foundation: organisation (trusts, teams, staff, roles), access rules, audit, notifications,
sign-in security. The lowest layer: it imports no app (networks, meetings, outcomes) and no
project wiring (README "Architecture"; `make lint` checks it)."""
