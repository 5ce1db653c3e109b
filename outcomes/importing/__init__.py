"""The outcome import: a CSV file of assessments, checked, previewed, then written all or nothing.

The modules, bottom to top (each imports only those above it in this list):

1. `problems`  - what is wrong, at which line; grouped for the page, in full for the report.
2. `parsing`   - bytes to rows: encoding (UTF-8 with or without BOM, UTF-16, else
                 Windows-1252), the delimiter (comma, semicolon or tab), headers matched to
                 outcomes.rules.IMPORT_COLUMNS whatever their case, spaces or underscores.
3. `values`    - each row's cells to typed values (ISO or, when asked, UK dates; "14.0" days),
                 with networks' NHS-number validator and pod/foundation/plausibility.py.
4. `records`   - the bulk reads: the people of the uploader's teams named in the file and their
                 assessments, two queries whatever the file's size, locked at import; the
                 fingerprint of what was read.
5. `checks`    - the rules that compare a row with other rows or with the record.
   `planning`  - the file against the record: what will be added, updated, left unchanged or
                 refused, and the warnings. The preview is this plan.
6. `preview`   - the plan as the job stores and the page draws it, every list capped.
   `writing`   - the plan staged (COPY) at preview, and written at import in one transaction,
                 attributed to the uploader.
   `reports`   - the template, the data dictionary and the problem report as CSV.
7. `jobs`      - the OutcomeImport row as the job: upload, preview, import, progress, history.
"""
