"""Page-cost benchmark (issue 17, point 5): benchmarks/README.md."""
