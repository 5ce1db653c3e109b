"""The FHIR bulk export on the dashboards' synthetic service (benchmarks/README.md)."""
