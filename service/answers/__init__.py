"""The answer's path: the phone form (``/s/{link}``), its validation, the answer record, the
group-commit writer that stores it exactly once, the short page cache of the hot path and the
per-device rate limit."""
