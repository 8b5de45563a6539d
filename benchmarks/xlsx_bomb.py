"""An .xlsx whose shared strings unpack to 44 MB from a 157 KB file (issue 21, finding 9).

    .venv/bin/python benchmarks/xlsx_bomb.py [CHECKOUT]

Builds the example county's workbook with a shared-strings part of 400,000 identical strings,
reads it with ``scoring.workbook.read_workbook_bytes`` of CHECKOUT (default: this one) and
prints whether it was read or refused, the time and the peak memory traced (tracemalloc slows
the reading itself).
"""
import io, sys, time, zipfile, tracemalloc
CHECKOUT = sys.argv[1] if len(sys.argv) > 1 else str(__import__("pathlib").Path(__file__).resolve().parents[1])
sys.path.insert(0, CHECKOUT)
from pathlib import Path
import pandas as pd
from scoring.workbook import read_workbook_bytes, SCHOOL_COLUMNS, SHEETS
EX = Path(CHECKOUT) / "tests/examples/example-pass"
frames = {k: pd.read_csv(EX / f"{k}.csv", dtype=str, keep_default_na=False) for k in ("schools", "county", "veto")}
buf = io.BytesIO()
with pd.ExcelWriter(buf, engine="openpyxl") as w:
    frames["schools"].rename(columns=SCHOOL_COLUMNS).to_excel(w, sheet_name=SHEETS["schools"], index=False)
    for k in ("county", "veto"):
        frames[k].rename(columns={"key": "键", "value": "值"}).to_excel(w, sheet_name=SHEETS[k], index=False)
src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
n = 400_000
sst = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
       + b"".join(b"<si><t>" + b"x" * 95 + b"</t></si>" for i in range(n)) + b"</sst>")
def edit(name, body):
    if name == "[Content_Types].xml":
        return body.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    if name == "xl/_rels/workbook.xml.rels":
        return body.replace(b"</Relationships>", b'<Relationship Id="rId77" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return body
out = io.BytesIO()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
    for info in src.infolist():
        dst.writestr(info.filename, edit(info.filename, src.read(info)))
    dst.writestr("xl/sharedStrings.xml", sst)
data = out.getvalue()
print(f"file {len(data)/1024:.0f} KB, sharedStrings {len(sst)/1e6:.1f} MB")
tracemalloc.start()
t = time.perf_counter()
try:
    read_workbook_bytes("bomb.xlsx", data)
    print("read")
except Exception as e:
    print("refused:", str(e)[:200])
print(f"{time.perf_counter()-t:.2f} s, peak traced {tracemalloc.get_traced_memory()[1]/2**20:.0f} MB")
