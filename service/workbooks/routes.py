"""A county's workbook files under ``/inspector``: a version's stored bytes and the blank template.
(The county page with the upload is ``verdicts/county_routes.py``: it reads campaigns too.)"""

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response
from sqlmodel import Session

from service.accounts import audit
from service.accounts import roles as R
from service.web.downloads import XLSX, attachment
from service.workbooks import versions as W
from service.workbooks.template import blank_template


@get("/template.xlsx", sync_to_thread=True, guards=[R.logged_in])
def template_xlsx() -> Response:
    return Response(blank_template(), media_type=XLSX, headers=attachment("指标表模板.xlsx"))


@get("/counties/{county:str}/workbooks/{version:int}", sync_to_thread=True, guards=[R.logged_in, R.county_reader])
def version_download(db: NamedDependency[Session], principal: NamedDependency[R.Principal], county: FromPath[str],
                     version: FromPath[int]) -> Response:
    v = W.version_of(db, county, version, withdrawn=True)
    if v is None:
        raise NotFoundException("no such version")
    audit.record(db, principal, "workbook_download", f"county/{county}/v{version}",
                 {"file": v.filename}, v.sha256)
    name = v.filename if v.filename.lower().endswith((".xlsx", ".zip")) else f"v{v.version}.zip"
    return Response(bytes(v.data), media_type="application/octet-stream", headers=attachment(name))


INSPECTOR_ROUTES = [template_xlsx, version_download]
