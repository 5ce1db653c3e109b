"""The outcome import: a CSV file of assessments, checked, previewed, then written all or nothing.

The layers, bottom to top (each imports only those below it):

1. `problems`  - what is wrong, at which line; grouped for the page, in full for the report.
2. `parsing`   - bytes to rows: encoding (UTF-8 with or without BOM, else Windows-1252), the
                 delimiter (comma, semicolon or tab), headers matched to outcomes.rules.
                 IMPORT_COLUMNS whatever their case, spaces or underscores.
3. `values`    - each row's cells to typed values (ISO or, when asked, UK dates; "14.0" days),
                 with the plausibility rules of pod/foundation/plausibility.py.
4. `records`   - the bulk reads: the people of the uploader's teams named in the file and their
                 assessments, two queries whatever the file's size, optionally row-locked.
5. `planning`  - the file against the record: what will be added, updated, left unchanged or
                 refused, and the warnings; the preview is this plan, and its fingerprint is what
                 the import promises to write.
6. `writing`   - the plan into the database in one transaction, attributed to the uploader.
7. `jobs`      - the OutcomeImport row as the job: upload, preview, import, progress, history.
   `reports`   - the template, the data dictionary and the problem report as CSV.
"""
