"""Every code of the method and its Chinese label: the one table pages, exports and printouts use.

Parts, rules (R1–R7, G1–G15, Q1–Q9, S1–S7, V1–V7), respondent groups, locations, stages,
grades, items and options, statuses, validity. The rule modules keep the names of their own
items (a reader of ``guarantee.py`` sees G1's name beside its rule); this module gathers them
so that no caller keeps a table of its own. ``label(code)`` finds any code.
"""

from types import MappingProxyType

from .guarantee import NAMES as GUARANTEE_ITEMS
from .profile import GRADES as GRADE_CODES
from .quality import NAMES as QUALITY_ITEMS
from .resources import INDICATOR_NAMES as INDICATORS
from .verdict import VETO_NAMES as VETO_ITEMS

PARTS = MappingProxyType({"resources": "资源配置", "guarantee": "政府保障程度", "quality": "教育质量",
                          "recognition": "社会认可度", "veto": "一票否决", "precondition": "前置条件"})
# The four parts a county must pass, in the method's order (veto and precondition are not parts).
FOUR_PARTS = ("resources", "guarantee", "quality", "recognition")
CHECKS = MappingProxyType({"S1": "样本量", "S2": "家长占比", "S3": "其他群体均衡", "S4": "城乡结构",
                           "S5": "有效率", "S6": "学校覆盖", "S7": "学段均衡"})
GROUPS = MappingProxyType({"student": "学生", "parent": "家长", "teacher": "教师", "principal": "校长",
                           "npc_deputy": "人大代表", "cppcc_member": "政协委员", "public": "其他群众"})
LOCATIONS = MappingProxyType({"urban": "城区", "town": "镇区", "rural": "乡村"})
STAGES = MappingProxyType({"primary": "小学", "junior": "初中"})
BANDS = MappingProxyType({"3-4": "三至四年级", "5-6": "五至六年级", "7-9": "七至九年级"})
ITEMS = MappingProxyType({"moral": "立德树人、德育", "equity": "教育公平政策", "sharing": "优质资源共享",
                          "conduct": "规范办学行为", "quality_ed": "素质教育", "assessment": "考试评价制度改革",
                          "quality": "教育质量", "burden": "减轻课业负担", "overall": "总体评价"})
# The three questionnaires as the respondent chooses between them (survey.md, "Questionnaires").
QUESTIONNAIRES = MappingProxyType({"student": "学生问卷", "staff": "校长、教师问卷", "public": "家长及社会各界问卷"})
OPTIONS = MappingProxyType({"A": "满意", "B": "比较满意", "C": "基本满意", "D": "不满意", "E": "不了解"})
# The rate's status (survey.md) is not the part's verdict: "稳健达标" describes the rate only.
RATE_STATUS = MappingProxyType({"robust_pass": "稳健达标", "marginal_pass": "勉强达标", "fail": "未达标",
                                "no_data": "无数据"})
PRECONDITION_STATUS = MappingProxyType({"passed": "满足", "failed": "不满足", "unchecked": "未填写年份，未检查"})
INVALID = MappingProxyType({"incomplete": "未答完", "duplicate": "重复作答", "speeder": "答题过快"})
VALIDITY = MappingProxyType({"valid": "有效", **INVALID})
GRADES = MappingProxyType({g: f"{'一二三四五六七八九'[g - 1]}年级" for g in GRADE_CODES})
PASSED = MappingProxyType({True: "达标", False: "未达标"})
PROFILES = MappingProxyType({"national-2017": "国家标准 · 2017 年督导评估办法"})
LEDGER_RULES = MappingProxyType({**INDICATORS, **GUARANTEE_ITEMS, **QUALITY_ITEMS, **CHECKS,
                                 "R": "资源配置（校区）", "CV": "校际差异系数", "rate": "认可度",
                                 "veto": PARTS["veto"], "precondition": PARTS["precondition"]})

_ALL = {**PARTS, **LEDGER_RULES, **VETO_ITEMS, **GROUPS, **LOCATIONS, **STAGES, **ITEMS, **RATE_STATUS}


def label(code: str) -> str:
    """The Chinese label of any code (the code itself when it has none)."""
    return _ALL.get(code, code)


def profile_title(profile) -> str:
    """A profile's title for people: the bundled national one by name, a province's file as “省级方案”."""
    return PROFILES.get(profile.name, f"自定义评估方案（{profile.name}）")
