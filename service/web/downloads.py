"""Headers of a file download (a Chinese file name survives every browser as RFC 5987)."""

from urllib.parse import quote

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(name: str) -> dict:
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
