"""The blank workbook to fill in (Chinese headers, a 说明 sheet, drop-downs)."""

import io

SCHOOL_NOTES = {
    "school_code": "县内唯一的学校代码", "school_name": "学校全称",
    "school_type": "下拉选择：小学、初中、九年一贯制、十二年一贯制、完全中学、教学点、特殊教育学校",
    "location": "下拉选择：城区、镇区、乡村", "students_primary": "小学阶段在校生数（空白按 0）",
    "students_junior": "初中阶段在校生数（空白按 0）", "students_senior": "高中阶段在校生数（仅用于分摊校舍设备）",
    "qualified_teachers_primary": "R1 分子（小学）", "qualified_teachers_junior": "R1 分子（初中）",
    "backbone_teachers_primary": "R2 分子（小学）", "backbone_teachers_junior": "R2 分子（初中）",
    "pe_art_teachers_primary": "R3 分子（小学）", "pe_art_teachers_junior": "R3 分子（初中）",
    "teaching_area_m2": "R4，全校，平方米", "sports_area_m2": "R5，全校，平方米",
    "equipment_value_yuan": "R6，全校，元", "multimedia_rooms": "R7，全校，间",
    "classes": "G3，义务教育阶段班级数", "music_rooms": "G3，间", "art_rooms": "G3，间",
    "music_room_min_area_m2": "G3，最小一间的面积，平方米", "art_room_min_area_m2": "G3，最小一间的面积，平方米",
    "max_class_size_primary": "G5，小学最大班额", "max_class_size_junior": "G5，初中最大班额",
    "funded_students": "G6，不足 100 人的学校核定公用经费的学生数", "public_funds_yuan": "Q4，元",
    "training_funds_yuan": "Q4，元",
}


def blank_template() -> bytes:
    """An empty workbook to fill in: 学校 and 县域 (and 一票否决) sheets with Chinese headers, a
    说明 sheet explaining each column, drop-downs for school type, location, yes/no and Q6."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from scoring.county_keys import COUNTY_KEYS as COUNTY_KEY_TABLE
    from scoring.verdict import VETO_NAMES
    from scoring.workbook import (
        COUNTY_KEYS,
        LOCATION_NAMES,
        Q6_RATINGS,
        SCHOOL_COLUMNS,
        SCHOOL_TYPES,
        SHEETS,
        VETO_KEYS,
        YES_NO_KEYS,
    )

    rows = 500
    wb = Workbook()
    ws = wb.active
    ws.title = SHEETS["schools"]
    ws.append(list(SCHOOL_COLUMNS.values()))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    cols = list(SCHOOL_COLUMNS)

    def letter(key: str) -> str:
        from openpyxl.utils import get_column_letter
        return get_column_letter(cols.index(key) + 1)

    def listed(sheet, values, ref: str) -> None:
        dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="请从下拉列表选择", error="请从下拉列表选择")
        sheet.add_data_validation(dv)
        for part in ref.split():
            dv.add(part)

    listed(ws, SCHOOL_TYPES.values(), f"{letter('school_type')}2:{letter('school_type')}{rows}")
    listed(ws, LOCATION_NAMES.values(), f"{letter('location')}2:{letter('location')}{rows}")
    for i, key in enumerate(cols, start=1):
        ws.column_dimensions[letter(key)].width = max(10, len(SCHOOL_COLUMNS[key]) * 2 + 2)

    county = wb.create_sheet(SHEETS["county"])
    # 键 and 值 are what the reader needs (a key may also be written as its 名称); 名称, 单位或填法
    # and 说明 are for the person filling it in and are ignored on upload.
    county.append(["键", "名称", "值", "单位或填法", "说明"])
    for cell in county[1]:
        cell.font = Font(bold=True)
    yes_rows, q6_row = [], None
    for key in COUNTY_KEYS + ("basic_balance_year", "evaluation_year"):
        name, unit, meaning = COUNTY_KEY_TABLE[key]
        county.append([key, name, None, unit, meaning])
        if key in YES_NO_KEYS:
            yes_rows.append(county.max_row)
        if key == "Q6":
            q6_row = county.max_row
    for col, width in zip("ABCDE", (26, 34, 16, 22, 50)):
        county.column_dimensions[col].width = width
    county.freeze_panes = "C2"
    listed(county, ["是", "否"], " ".join(f"C{r}" for r in yes_rows))
    listed(county, Q6_RATINGS, f"C{q6_row}")

    veto = wb.create_sheet(SHEETS["veto"])
    veto.append(["键", "值"])
    for key in VETO_KEYS:
        veto.append([key, "否"])
    listed(veto, ["是", "否"], f"B2:B{len(VETO_KEYS) + 1}")

    notes = wb.create_sheet("说明")
    notes.append(["工作表", "列 / 键", "英文键", "说明"])
    for key, name in SCHOOL_COLUMNS.items():
        notes.append([SHEETS["schools"], name, key, SCHOOL_NOTES.get(key, "")])
    for key in COUNTY_KEYS + ("basic_balance_year", "evaluation_year"):
        name, unit, meaning = COUNTY_KEY_TABLE[key]
        optional = "（可空）" if key in ("basic_balance_year", "evaluation_year") else ""
        notes.append([SHEETS["county"], name, key, f"{meaning}；填写：{unit}{optional}"])
    for key in VETO_KEYS:
        notes.append([SHEETS["veto"], key, key, f"{VETO_NAMES[key]}（是/否）"])
    for col, width in zip("ABCD", (10, 26, 30, 60)):
        notes.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
