"""Import a page from Atlassian Statuspage (or any server speaking its API, such as this one).

- source.py reads it over HTTP: the manage API v1 with a key, or the public API v2 without one (paging,
  429 with Retry-After, retries of passing failures), into Statuspage's documented shapes.
- writer.py writes it here through the domain services, keeping every id; each incident is one transaction.
- report.py counts what was imported, updated, left unchanged and skipped (and why), and shows progress.
"""
