"""Pages about one person's whole record (project wiring: see views.py)."""
