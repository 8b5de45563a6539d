"""A county's verdict: the one pipeline (``pipeline.county_verdict``), what pages show of it
(``presenters``), its exports and charts, and the pages — the verdict, the A4 report, the
ledger, the province overview. Routes under ``/inspector``."""
