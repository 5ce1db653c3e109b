"""The DCB0129 clinical risk management file, kept true by the tests.

- `safety/hazards.toml`: the hazard log (read by `hazard_log`), rated on the DCB0129 matrix
  (`matrix`).
- `tests/hazard_plugin.py`: records the outcome of every test marked
  `@pytest.mark.hazard("<control id>")` in `test-artifacts/safety/results.json` (`results`).
- `check`: judges the log against that run; `render`: writes the safety case
  (`safety/SAFETY_CASE.md` with its generated sections filled in) to `test-artifacts/safety/`.
- `cli`: `python -m pod.safety_case` (or `make safety`, or `manage.py safety_case`).

No Django here: the tool runs without settings or a database, so CI can run it after the suite.
"""
