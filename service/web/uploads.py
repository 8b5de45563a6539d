"""Uploads' size: the request body a workbook or school-list upload may have (the file limit of
``scoring.workbook`` plus room for the form around it), and the Chinese refusal of a larger one,
which names the limit and the size sent instead of a bare error page."""

from litestar import Request

from scoring.workbook import MAX_BYTES, megabytes

# Litestar refuses a larger body with 413 before the handler runs (its default is 10 MB, less
# than a workbook may be); a file between MAX_BYTES and this is refused by scoring, with its size.
UPLOAD_BODY_LIMIT = MAX_BYTES + 2**20


def too_large_message(request: Request) -> str:
    """What a 413 says: the file's size (the request's Content-Length) and the route's limit."""
    limit = request.route_handler.resolve_request_max_body_size() if request.scope.get("route_handler") else None
    limit = MAX_BYTES if limit is None or limit > MAX_BYTES else limit
    size = request.headers.get("content-length", "")
    sent = f"约 {megabytes(int(size))}，" if size.isdigit() else ""
    return (f"上传的文件过大（{sent}上限 {megabytes(limit)}）：请删去多余的工作表、"
            "图片或行后再上传。")
