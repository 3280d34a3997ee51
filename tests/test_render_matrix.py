"""A pairwise matrix over the five questions: every row renders cleanly, and the rendered
project passes its own lint, format and strict type checks.

Rows come from allpairspy, restricted to combinations `refusal()` accepts. A separate test
proves the kept rows still cover every pair of answer values that can co-occur; if the
filter made allpairspy lose a pair, rows are added greedily until none is missing.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import re
import sys
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from itertools import combinations, product
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from allpairspy import AllPairs
from conftest import REPO, RenderFn, files_as_rendered, run, uv

sys.path.insert(0, str(REPO / "extensions"))
derive = importlib.import_module("derive")

COMPLIANCE_SETS: dict[str, list[str]] = {
    "none": [],
    "GDPR": ["GDPR"],
    "SOC2+ISO27001": ["SOC2", "ISO27001"],
    "PCI-DSS+GDPR": ["PCI-DSS", "GDPR"],
    "HIPAA": ["HIPAA"],
    "GDPR+SOC2+ISO27001+HIPAA": ["GDPR", "SOC2", "ISO27001", "HIPAA"],
}
PARAMETERS: OrderedDict[str, tuple[str, ...]] = OrderedDict(
    business_domain=("ecommerce", "saas", "devops"),
    user_scale=("small", "medium", "large"),
    infrastructure=("aws", "gcp", "azure", "multi-cloud"),
    budget_constraints=("startup", "growth", "enterprise"),
    compliance_requirements=tuple(COMPLIANCE_SETS),
)
NAMES = tuple(PARAMETERS)
Row = tuple[str, ...]


def answers_of(row: Row) -> dict[str, Any]:
    answers: dict[str, Any] = dict(zip(NAMES, row, strict=True))
    answers["compliance_requirements"] = list(COMPLIANCE_SETS[row[-1]])
    return answers


def accepted(row: Row) -> bool:
    return not derive.refusal(answers_of(row))


VALID_ROWS: list[Row] = [row for row in product(*PARAMETERS.values()) if accepted(row)]


def pairs_of(row: Row) -> set[tuple[tuple[int, str], tuple[int, str]]]:
    return {((i, row[i]), (j, row[j])) for i, j in combinations(range(len(row)), 2)}


COVERABLE = set().union(*(pairs_of(row) for row in VALID_ROWS))


def _extendable(partial: Iterable[str]) -> bool:
    """allpairspy's filter: can this partial row still become an accepted row?"""
    prefix = tuple(partial)
    return any(row[: len(prefix)] == prefix for row in VALID_ROWS)


def build_matrix() -> list[Row]:
    rows = [tuple(r) for r in AllPairs(PARAMETERS, filter_func=_extendable)]
    rows = [r for r in rows if accepted(r)]
    missing = COVERABLE - set().union(*(pairs_of(r) for r in rows))
    while missing:  # greedy top-up, deterministic (first best row in product order)
        best = max(VALID_ROWS, key=lambda r: len(pairs_of(r) & missing))
        rows.append(best)
        missing -= pairs_of(best)
    return rows


MATRIX = build_matrix()


def row_id(row: Row) -> str:
    return "-".join(row)


def row_data(row: Row) -> dict[str, Any]:
    return {"project_name": "Matrix Service", **answers_of(row)}


def test_matrix_covers_every_possible_pair() -> None:
    assert all(accepted(r) for r in MATRIX), "a refused combination is in the matrix"
    covered = set().union(*(pairs_of(r) for r in MATRIX))
    assert covered >= COVERABLE, sorted(COVERABLE - covered)
    assert len(set(MATRIX)) == len(MATRIX), "duplicate rows"
    # Pairs that cannot co-occur are the refusals, not gaps: spot-check both directions.
    large, startup = (1, "large"), (3, "startup")
    assert (large, startup) not in COVERABLE
    assert ((0, "ecommerce"), (4, "PCI-DSS+GDPR")) in covered
    assert ((0, "saas"), (4, "PCI-DSS+GDPR")) not in COVERABLE
    # Small enough to render and type-check in a few minutes.
    assert len(MATRIX) <= 30, len(MATRIX)


# ---------------------------------------------------------------------------------------
# What renders
# ---------------------------------------------------------------------------------------

JINJA_MARK = re.compile(r"(?<!\$)\{\{|\{%|\{#")
# Legitimate double braces in other template languages that generated files may contain:
# GitHub Actions `${{ }}` (excluded above) and Go templates (Prometheus/Alertmanager rules,
# Helm): `{{ $labels.x }}`, `{{ .Value }}`, `{{- range ... }}`.
NOT_JINJA = re.compile(
    r"\{\{-?\s*(?:[.$]|(?:range|end|if|else|with|template|define|printf|humanize\w*)\b)"
)
# Files whose format uses bare `{{name}}` placeholders (Grafana legends, Alertmanager).
BRACES_ALLOWED = ("infra/monitoring/*dashboard*.json", "infra/monitoring/**/*.json")
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".pdf", ".zip"}


class _AnyTagLoader(yaml.SafeLoader):
    """SafeLoader that accepts application tags such as CloudFormation's `!Ref`."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_AnyTagLoader.add_multi_constructor("!", _any_tag)

PARSERS: dict[str, Callable[[str], Any]] = {
    ".yml": lambda text: list(yaml.load_all(text, Loader=_AnyTagLoader)),
    ".yaml": lambda text: list(yaml.load_all(text, Loader=_AnyTagLoader)),
    ".toml": tomllib.loads,
    ".lock": tomllib.loads,  # uv.lock
    ".json": json.loads,
    ".tf": hcl2.loads,  # Terraform (and its tfvars) of every chosen cloud
    ".tfvars": hcl2.loads,
}


def leftover_jinja(rel: str, text: str) -> list[str]:
    if any(fnmatch.fnmatch(rel, pattern) for pattern in BRACES_ALLOWED):
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for mark in JINJA_MARK.finditer(line):
            if not NOT_JINJA.match(line, mark.start()):
                found.append(f"{rel}:{number}: {line.strip()[:120]}")
    return found


def test_leftover_detector() -> None:
    """The check above flags Jinja and lets other template languages through."""
    assert leftover_jinja("src/app.py", "NAME = '{{ project_slug }}'")
    assert leftover_jinja("README.md", "{% if profile.budget.waf %}")
    assert leftover_jinja("README.md", "{#- a comment -#}")
    assert not leftover_jinja(".github/workflows/ci.yml", "run: echo ${{ github.sha }}")
    assert not leftover_jinja("rules.yml", "summary: {{ $labels.instance }} at {{ .Value }}")
    assert not leftover_jinja("values.yaml", "{{- range .Values.hosts }}")


@pytest.fixture
def project(request: pytest.FixtureRequest, shared_render: RenderFn) -> Path:
    row: Row = request.param
    return shared_render(f"matrix-{row_id(row)}", row_data(row))


@pytest.mark.parametrize("project", MATRIX, ids=row_id, indirect=True)
def test_renders_cleanly(project: Path) -> None:
    files = files_as_rendered(project)
    assert files, "nothing was rendered"
    bad_names = [f for f in files if f.endswith(".jinja") or JINJA_MARK.search(f)]
    assert not bad_names, f"unrendered file names: {bad_names}"

    leftovers: list[str] = []
    unparsable: list[str] = []
    for rel in files:
        path = project / rel
        if path.suffix in BINARY_SUFFIXES:
            continue
        raw = path.read_bytes()
        if b"\0" in raw:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            unparsable.append(f"{rel}: not UTF-8")
            continue
        leftovers += leftover_jinja(rel, text)
        parser = (
            PARSERS.get(path.suffix) if path.suffix != ".lock" or path.name == "uv.lock" else None
        )
        if parser is not None:
            try:
                parser(text)
            except Exception as error:  # noqa: BLE001 - report every broken file at once
                unparsable.append(f"{rel}: {type(error).__name__}: {error}")
    assert not leftovers, "leftover Jinja:\n" + "\n".join(leftovers)
    assert not unparsable, "files that do not parse:\n" + "\n".join(unparsable)


@pytest.mark.parametrize("project", MATRIX, ids=row_id, indirect=True)
def test_answers_are_recorded(project: Path) -> None:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["project_slug"] == "matrix_service"
    row = tuple(answers[k] for k in NAMES[:-1]) + (_label(answers[NAMES[-1]]),)
    assert project.name == f"matrix-{row_id(row)}", f"answers {row} in {project.name}"
    assert (project / "src" / "matrix_service").is_dir()


def _label(frameworks: list[str]) -> str:
    for label, chosen in COMPLIANCE_SETS.items():
        if sorted(chosen) == sorted(frameworks):
            return label
    raise AssertionError(f"unexpected compliance answer {frameworks}")


def mypy_targets(project: Path) -> list[str]:
    """mypy's own config decides what to check; fall back to src and tests."""
    config = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    mypy = config.get("tool", {}).get("mypy", {})
    assert mypy.get("strict") is True, "the generated pyproject.toml must set [tool.mypy] strict"
    if any(k in mypy for k in ("files", "packages", "modules")):
        return []
    return [d for d in ("src", "tests") if (project / d).is_dir()]


@pytest.mark.slow
@pytest.mark.parametrize("project", MATRIX, ids=row_id, indirect=True)
def test_project_tooling(
    project: Path,
    uv_sync: Callable[[Path], dict[str, str]],
    mypy_cache_dir: Path,
) -> None:
    env = uv_sync(project)
    uv_bin = uv()
    cache = mypy_cache_dir
    commands = [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy", "--strict", "--cache-dir", str(cache), *mypy_targets(project)],
    ]
    failures = []
    for command in commands:  # run all three, report every failure at once
        result = run([uv_bin, "run", "--frozen", *command], cwd=project, env=env, check=False)
        if result.returncode != 0:
            failures.append(
                f"$ uv run --frozen {' '.join(command)} -> exit {result.returncode}\n"
                f"{result.stdout[-4000:]}{result.stderr[-2000:]}"
            )
    assert not failures, "\n\n".join(failures)
