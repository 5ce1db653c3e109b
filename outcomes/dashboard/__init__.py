"""The service manager's dashboards: one module per group of sections, each section a selector
that aggregates in PostgreSQL and returns a typed result (README "Architecture").

- `scope`: whose records and which period a dashboard covers.
- `query_cache`: runs each section's queries compiled once per shape.
- `expressions`: the SQL pieces the sections share (London days and months, percentiles).
- `clinical_rules`: the 24-hour rule and the medication rule.
- `meeting_figures`: meetings in the first 14 days, who was at the meetings.
- `peer_and_staffing`: peer work, thin networks, training and peer staffing.
- `outcome_figures`: outcomes by trial arm, the experience survey, care plans, fidelity.
- `sections`: every section by name, and the whole dashboard.
"""
