"""The county sheet's keys (workbook.md, sheet ``county``/县域) in the words a bureau uses: each
key's Chinese name, its unit or form, and what it means. The template prints them beside the keys,
the reader accepts the Chinese name in place of the key, and the ledger and error messages name a
key by it. Rates are written as 0.95, 95% or 95 (workbook.md). Thresholds are the profile's, not
restated here."""

import re
from types import MappingProxyType

YES_NO = "是/否"
RATE = "比率，如 0.95 或 95%"

# key: (Chinese name, unit or form, meaning)
COUNTY_KEYS = MappingProxyType({
    "county_name": ("县（市、区）名称", "文字", "与账号所属县一致"),
    "resident_population": ("常住人口", "人", "决定调查样本量（1.5‰）"),
    "population_share_urban": ("城区人口占比", RATE, "三项占比合计为 1"),
    "population_share_town": ("镇区人口占比", RATE, "三项占比合计为 1"),
    "population_share_rural": ("乡村人口占比", RATE, "三项占比合计为 1"),
    "G1": ("学校规划布局合理", YES_NO, "G1 县域内义务教育学校规划布局合理，符合国家规定要求"),
    "G2a": ("城乡统一学校建设标准", YES_NO, "G2 “四统一”之一：城乡学校建设标准统一"),
    "G2b": ("城乡统一教师编制标准", YES_NO, "G2 “四统一”之二：城乡教师编制标准统一"),
    "G2c": ("城乡统一生均公用经费基准定额", YES_NO, "G2 “四统一”之三：生均公用经费基准定额统一"),
    "G2d": ("城乡统一基本装备配置标准", YES_NO, "G2 “四统一”之四：基本装备配置标准统一"),
    "G7": ("特殊教育学校生均公用经费", "元/生·年", "G7 特殊教育学校生均公用经费标准"),
    "G8_teacher_salary": ("教师平均工资收入", "元/年", "G8 教师平均工资收入不低于当地公务员"),
    "G8_civil_servant_salary": ("当地公务员平均工资收入", "元/年", "G8 的比较基准"),
    "G8_merit_pay_full": ("绩效工资总量足额核定", YES_NO, "G8 教师绩效工资总量按规定足额核定"),
    "G9": ("教师5年360学时培训完成率", RATE, "G9 教师5年360学时培训完成率"),
    "G10": ("统筹分配各校编制和岗位", YES_NO, "G10 县级教育行政部门统筹分配各校教职工编制和岗位数量"),
    "G11_eligible": ("符合交流条件的教师数", "人", "G11 交流轮岗比例的分母"),
    "G11_rotated": ("上一年度交流轮岗教师数", "人", "G11 交流轮岗教师比例的分子"),
    "G11_rotated_backbone": ("交流轮岗教师中的骨干教师数", "人", "G11 骨干教师占交流轮岗教师的比例"),
    "G12": ("专任教师持证上岗率", RATE, "G12 专任教师持证上岗率"),
    "G13_primary": ("小学就近划片入学比例", RATE, "G13 城区和镇区公办小学（不含寄宿制学校）"),
    "G13_junior": ("初中就近划片入学比例", RATE, "G13 城区和镇区公办初中（不含寄宿制学校）"),
    "G14": ("优质高中招生名额分配比例", RATE, "G14 优质高中招生名额分配到初中的比例"),
    "G14_rural_tilt": ("名额分配向农村初中倾斜", YES_NO, "G14 分配名额向农村初中倾斜"),
    "G15_care_system": ("留守儿童关爱体系健全", YES_NO, "G15 留守儿童关爱体系健全"),
    "G15_migrant_rate": ("随迁子女在公办学校和政府购买服务的民办学校就读比例", RATE, "G15 符合条件的随迁子女就读比例"),
    "Q1": ("初中三年巩固率", RATE, "Q1 初中三年巩固率"),
    "Q2": ("残疾儿童少年入学率", RATE, "Q2 残疾儿童少年入学率"),
    "Q3": ("学校章程与管理、教学信息化", YES_NO, "Q3 所有学校制定章程，实现学校管理与教学信息化"),
    "Q5": ("教师熟练运用信息化手段组织教学", YES_NO, "Q5 所有学校教师能熟练运用信息化手段组织教学"),
    "Q6": ("学校德育工作、校园文化建设水平", "优秀/良好/合格/不合格", "Q6 县域学校德育工作和校园文化建设水平评价"),
    "Q7": ("课程开齐开足，教学秩序规范", YES_NO, "Q7 所有学校按照国家要求开齐开足课程"),
    "Q8": ("无过重课业负担", YES_NO, "Q8 学生没有过重课业负担"),
    "Q9_min_level": ("质量监测各科学业水平最低等级", "1–4 或 Ⅰ–Ⅳ", "Q9 各监测学科学业水平的最低等级"),
    "Q9_school_diff_rate": ("质量监测校际差异率", RATE, "Q9 国家质量监测的校际差异率"),
    "basic_balance_year": ("通过基本均衡认定的年份", "年份，如 2016", "前置条件：满年限方可申请"),
    "evaluation_year": ("评估年度", "年份，如 2025", "本表数据所属的年度"),
})

BY_NAME = MappingProxyType({name: key for key, (name, _, _) in COUNTY_KEYS.items()})


def key_name(key: str) -> str:
    """``G8_teacher_salary`` → 教师平均工资收入 (the key itself when it has no name)."""
    return COUNTY_KEYS[key][0] if key in COUNTY_KEYS else key


def key_label(key: str) -> str:
    """The name with its rule's code as a short reference: ``G8_teacher_salary`` → G8 教师平均工资收入."""
    code = re.match(r"[GQ]\d+", key)
    return f"{code.group()} {key_name(key)}" if code else key_name(key)
