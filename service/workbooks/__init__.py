"""A county's workbook versions (the only place a workbook lives), their upload, download and
comparison, and the blank template. Routes under ``/inspector/counties/{county}``."""
