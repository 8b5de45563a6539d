"""Evaluation profiles: every threshold, weight and tolerance as data.

A profile is the national-2017 data file with overrides merged in. An override
file (TOML, YAML or JSON) may use nested tables (``[resources] facility_split =
"students"``) or bare parameter names (``facility_split: students``) when the
name occurs once in the profile.
"""

import copy
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .errors import InputError, Problem

PROFILE_DIR = Path(__file__).with_name("profiles")
DEFAULT_PROFILE = "national-2017"

GROUPS = ("student", "parent", "teacher", "principal", "npc_deputy", "cppcc_member", "public")
ITEMS = ("moral", "equity", "sharing", "conduct", "quality_ed", "assessment", "quality", "burden", "overall")
STAGES = ("primary", "junior")
INDICATORS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7")
LOCATIONS = ("urban", "town", "rural")
SCHOOL_GROUPS = ("student", "parent", "teacher", "principal")  # they answer for a school; cluster by it
GRADES = tuple(range(1, 10))          # compulsory education: grades one to nine
OPTIONS = ("A", "B", "C", "D", "E")


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class Profile:
    name: str
    resources: Mapping[str, Any]
    guarantee: Mapping[str, Any]
    quality: Mapping[str, Any]
    precondition: Mapping[str, Any]
    recognition: Mapping[str, Any]
    sampling: Mapping[str, Any]
    integrity: Mapping[str, Any]
    privacy: Mapping[str, Any]
    epsilon: float = 1e-9
    # sha256 of the merged tables: two profiles with the same digest judge alike, whatever
    # their names or files (the service keys its caches by it).
    digest: str = ""
    # Roadmap tables (roadmap.md): unit costs per input column, departments per rule.
    costs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    departments: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # 数据采集 review flags (scoring/collection.py): how far from the county's median a value is unusual.
    collection: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    # Comparisons of standard.md: ">= X" is v >= X - eps, "<= X" is v <= X + eps,
    # "< X" is v < X - eps.
    def at_least(self, value: float, threshold: float) -> bool:
        return value >= threshold - self.epsilon

    def at_most(self, value: float, threshold: float) -> bool:
        return value <= threshold + self.epsilon

    def below(self, value: float, threshold: float) -> bool:
        return value < threshold - self.epsilon

    def design_weights(self) -> dict[str, float]:
        """Design weight per group; unlisted groups share the remainder equally."""
        listed = {g: float(w) for g, w in self.recognition["design_weights"].items()}
        rest = [g for g in GROUPS if g not in listed]
        if rest:
            share = (1.0 - sum(listed.values())) / len(rest)
            listed.update({g: share for g in rest})
        return {g: listed[g] for g in GROUPS}

    def unit_cost(self, column: str | None) -> float | None:
        """元 per unit of an input column (roadmap.md ``[costs]``); None when it has no cost."""
        value = self.costs.get(column) if column else None
        return None if value is None else float(value)

    def departments_of(self, rule: str) -> tuple[str, ...]:
        """The responsible departments of a rule (R1–R7, CV, G1–G15, Q1–Q9, S), lead first;
        S1–S7 and the rate are part S; rules not listed take ``default``."""
        if rule not in self.departments and (rule.startswith("S") or rule == "rate"):
            rule = "S"
        found = self.departments.get(rule, self.departments.get("default", ("教育局",)))
        return (found,) if isinstance(found, str) else tuple(found)


def _read_mapping(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.safe_load(text) or {}


def _leaf_paths(tree: Mapping, prefix: tuple = ()) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    for key, value in tree.items():
        path = prefix + (key,)
        found.setdefault(key, []).append(path)
        if isinstance(value, Mapping):
            for k, paths in _leaf_paths(value, path).items():
                found.setdefault(k, []).extend(paths)
    return found


def _merge(base: dict, override: Mapping, source: str) -> None:
    index = _leaf_paths(base)
    for key, value in override.items():
        if key in base and isinstance(base[key], dict) and isinstance(value, Mapping):
            _deep_merge(base[key], value)
            continue
        if key in base:
            base[key] = value
            continue
        paths = index.get(key, [])
        if len(paths) != 1:
            why = "is not a profile parameter" if not paths else "is ambiguous: name its table"
            raise InputError([Problem(source, None, key, None, why)])
        node = base
        for part in paths[0][:-1]:
            node = node[part]
        if isinstance(node[key], dict) and isinstance(value, Mapping):
            _deep_merge(node[key], value)
        else:
            node[key] = value


def _deep_merge(base: dict, override: Mapping) -> None:
    for key, value in override.items():
        if isinstance(base.get(key), dict) and isinstance(value, Mapping):
            _deep_merge(base[key], value)
        else:
            base[key] = value


def load_profile(name_or_file: "str | Path | Profile | None" = None) -> Profile:
    """Load a bundled profile by name, or a file of overrides on national-2017."""
    if isinstance(name_or_file, Profile):
        return name_or_file
    data = _read_mapping(PROFILE_DIR / f"{DEFAULT_PROFILE}.toml")
    if name_or_file and str(name_or_file) != DEFAULT_PROFILE:
        bundled = PROFILE_DIR / f"{name_or_file}.toml"
        path = bundled if bundled.exists() else Path(name_or_file)
        if not path.is_file():
            raise InputError([Problem("profile", None, None, str(name_or_file),
                                      "is neither a bundled profile nor a file")])
        try:
            override = _read_mapping(path)
        except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError([Problem(path.name, None, None, None, f"cannot be read: {exc}")]) from exc
        if not isinstance(override, Mapping):
            raise InputError([Problem(path.name, None, None, None, "must hold key: value pairs")])
        override = dict(override)
        override.setdefault("name", path.stem)
        _merge(data, override, path.name)
    return Profile(
        name=str(data["name"]),
        digest=hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest(),
        epsilon=float(data.get("epsilon", 1e-9)),
        **{k: _freeze(copy.deepcopy(data[k])) for k in
           ("resources", "guarantee", "quality", "precondition", "recognition", "sampling", "integrity",
            "privacy")},
        **{k: _freeze(copy.deepcopy(data.get(k, {}))) for k in ("costs", "departments", "collection")},
    )
