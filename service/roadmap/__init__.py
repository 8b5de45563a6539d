"""The roadmap (时间表和路线图, spec/roadmap.md) of a county under ``/inspector``: plan versions
started from the ledger or uploaded, the projection year by year (``scoring.roadmap``), the
departments' task lists, monitoring across the years on file, the mock acceptance report and the
province's acceptance plan."""
