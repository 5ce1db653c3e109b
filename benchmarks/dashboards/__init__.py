"""The service manager's dashboards at trust scale: queries and time of each section, the ORM
selectors (outcomes/dashboard/) against the same aggregates written by hand in SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod_bench DEBUG=1 SECRET_KEY=x \\
        .venv/bin/python -m benchmarks.dashboards

- `generate`: fills the database with a synthetic service, in bulk SQL.
- `handsql`: the second implementation of the dashboards, in raw SQL (the yardstick).
- `run`: measures both, section by section, and the whole page.
- `report`: writes RESULTS.md.
- `__main__`: the command line.

Product code never imports this package (import-linter's layers: benchmarks sit on top).
"""
