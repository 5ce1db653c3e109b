"""The clinician's episode pages. Split by subject; meetings/urls.py maps them."""
