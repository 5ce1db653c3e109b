"""POD's FHIR R4 read API, its bulk export and its machine clients (README "Interoperability").

Project wiring: it reads every app (README "Architecture"), and nothing below it imports it.
"""
