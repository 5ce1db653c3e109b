"""Benchmark of the 24-hour first-meeting sweep: `python -m benchmarks.sweep`
(benchmarks/README.md).

The claim under test: the sweep's cost depends on the number of *open* clocks, not on how many
episodes have ever been closed, because it reaches the due rows through the partial index
`episode_clock_due` (closed episodes carry `clock_next_check_at = NULL`, so they are not in it).

What runs (`measure.run`):
1. One database per size (default `pod_bench_sweep_10000` and `pod_bench_sweep_1000000`) on the
   server named by DATABASE_URL is dropped, created and migrated; Django's default connection is
   pointed at it before its first query (`database.py`).
2. Trusts, teams, staff and 100 open clocks that are due now (some with meetings) are written
   with SQL; closed episodes (each with its service user, one held meeting, and an alert for one
   in ten) are generated with INSERT ... SELECT generate_series in chunks, printing progress
   (secondary indexes rebuilt after the load, foreign-key triggers off during it); then
   VACUUM ANALYZE (`data.py`).
3. In rounds that alternate between the databases (so a change in machine load hits both), with
   the same `now`, it times:
   - the sweep itself, `first_meeting_sweep(now=..., batch_size=500)`, with the 100 clocks reset
     to due and their alerts deleted before every run;
   - the same work written as raw SQL (one query reads the batch and its facts, one INSERT
     raises every alert, one UPDATE stores the next check times), as a floor for the sweep;
   - the sweep's own selection (the ORM queryset it runs, in a transaction), the same selection
     written as raw SQL on the partial index, and the ORM's SQL run on a bare cursor.
   It records the plans (EXPLAIN ANALYZE) to show the partial index in use (`orm_runs.py`,
   `raw_sql.py`, `measure.py`).
4. The figures go to benchmarks/sweep/RESULTS.md (`report.py`); the databases are dropped.

Broker publishes are not timed: the sweep enqueues delivery on commit, and that call is replaced
by a counter here (the count is reported), so the figures are database work only.

Product code never imports this package (import-linter's layers put `benchmarks` on top).
"""
