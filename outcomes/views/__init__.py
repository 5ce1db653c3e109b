"""Outcomes' pages, one module per group: dashboards (and their CSV), measures and assessments,
the experience survey, fidelity, and the import. Thin: check who may see what, call selectors
and services, render."""
