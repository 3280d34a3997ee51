"""Checkov on what a project deploys: its Terraform, its Kubernetes manifests, its Dockerfile.

Each project is scanned once, by one checkov run over a folder that holds a copy of its
infra/terraform, the built manifests of each Kubernetes overlay (tests/test_kubernetes.py's
builder, as kustomize would print them) and its Dockerfile. The projects are the three reference
scenarios plus two answers that add the cloud and budget pairs they miss (Azure on an
enterprise budget, GCP alone on a startup budget).

Skips live in tests/checkov_skips.yaml, per framework, each with its reason. Checkov runs every
check and the skips are applied here rather than with `--skip-check`: checkov leaves no trace of
a check it was told to skip, so only this way can a skip that no longer matches any failure be
found and removed.

Checkov is not a dev dependency (it pins versions python-hcl2 conflicts with): it runs with
`uvx --from 'checkov==3.2.*'`, in an environment of its own.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, SCENARIO_NAMES, RenderFn, load_scenario, run, uv
from test_kubernetes import OVERLAYS, kustomize_build

pytestmark = pytest.mark.slow

CHECKOV = "checkov==3.2.*"
FRAMEWORKS = ("terraform", "kubernetes", "dockerfile")
SKIPS_FILE = REPO / "tests" / "checkov_skips.yaml"
EXTRA_ROWS: dict[str, dict[str, Any]] = {
    "azure-enterprise": {
        "project_name": "Care Rooms",
        "project_slug": "care_rooms",
        "business_domain": "saas",
        "user_scale": "large",
        "infrastructure": "azure",
        "budget_constraints": "enterprise",
        "compliance_requirements": ["HIPAA", "SOC2"],
    },
    "gcp-startup": {
        "project_name": "Corner Shop",
        "project_slug": "corner_shop",
        "business_domain": "ecommerce",
        "user_scale": "small",
        "infrastructure": "gcp",
        "budget_constraints": "startup",
        "compliance_requirements": ["PCI-DSS"],
    },
}
PROJECTS = (*SCENARIO_NAMES, *EXTRA_ROWS)
Failure = dict[str, Any]
Scan = dict[str, list[Failure]]


def load_skips(path: Path = SKIPS_FILE) -> dict[str, dict[str, str]]:
    """{framework: {check id: reason}}; a malformed file fails the test that reads it."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict) and set(document) == set(FRAMEWORKS), (
        f"{path.name} must have exactly the sections {FRAMEWORKS}"
    )
    skips: dict[str, dict[str, str]] = {}
    for framework, entries in document.items():
        skips[framework] = {}
        for entry in entries or []:
            assert isinstance(entry, dict) and set(entry) == {"id", "reason"}, entry
            check_id, reason = str(entry["id"]), str(entry["reason"]).strip()
            assert check_id.startswith(("CKV_", "CKV2_")), f"{framework}: {check_id}"
            assert len(reason) >= 20, f"{framework} {check_id}: say why it does not apply"
            assert check_id not in skips[framework], f"{framework}: {check_id} listed twice"
            skips[framework][check_id] = reason
    return skips


def checkov_command() -> list[str]:
    found = shutil.which("uvx")
    return [found, "--from", CHECKOV] if found else [uv(), "tool", "run", "--from", CHECKOV]


def parse_report(stdout: str) -> tuple[Scan, dict[str, dict[str, int]]]:
    """Failed checks and summary of each framework in checkov's JSON output."""
    document = json.loads(stdout)
    reports = document if isinstance(document, list) else [document]
    failures: Scan = {}
    summaries: dict[str, dict[str, int]] = {}
    for report in reports:
        framework = report.get("check_type")
        if framework is None:  # checkov's output when nothing was scanned at all
            continue
        failures[framework] = list(report["results"].get("failed_checks", []))
        summaries[framework] = report["summary"]
    return failures, summaries


def unskipped(scan: Scan, skips: dict[str, dict[str, str]]) -> list[str]:
    return sorted(
        f"[{framework}] {failure['check_id']} {failure['check_name']}: {failure['resource']} "
        f"({failure.get('file_path', '')})"
        for framework, failures in scan.items()
        for failure in failures
        if failure["check_id"] not in skips.get(framework, {})
    )


@pytest.fixture(scope="module")
def scan_of(
    shared_render: RenderFn, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], tuple[Scan, dict[str, dict[str, int]], Path]]:
    """Scan a project (a scenario name or an EXTRA_ROWS key) once per module."""
    done: dict[str, tuple[Scan, dict[str, dict[str, int]], Path]] = {}

    def scan(key: str) -> tuple[Scan, dict[str, dict[str, int]], Path]:
        if key in done:
            return done[key]
        if key in EXTRA_ROWS:
            project = shared_render(f"checkov-{key}", EXTRA_ROWS[key])
        else:
            project = shared_render(f"suite-{key}", load_scenario(key))
        folder = tmp_path_factory.mktemp(f"checkov-{key}")
        terraform = project / "infra" / "terraform"
        if terraform.is_dir():
            shutil.copytree(terraform, folder / "terraform")
        (folder / "kubernetes").mkdir()
        for overlay in OVERLAYS:
            documents = kustomize_build(project / "infra" / "k8s" / "overlays" / overlay)
            (folder / "kubernetes" / f"{overlay}.yaml").write_text(
                yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8"
            )
        (folder / "docker").mkdir()
        shutil.copy(project / "Dockerfile", folder / "docker" / "Dockerfile")
        result = run(
            [
                *checkov_command(),
                "checkov",
                "--directory",
                str(folder),
                "--framework",
                *FRAMEWORKS,
                "--output",
                "json",
                "--compact",
                "--quiet",
                "--skip-download",
            ],
            cwd=folder,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
            timeout=900,
            check=False,
        )
        assert result.returncode in (0, 1), f"checkov failed to run:\n{result.stderr[-4000:]}"
        failures, summaries = parse_report(result.stdout)
        done[key] = (failures, summaries, project)
        return done[key]

    return scan


def test_skips_file_is_well_formed() -> None:
    skips = load_skips()
    assert set(skips) == set(FRAMEWORKS)


def test_skips_file_rejects_an_entry_without_a_reason(tmp_path: Path) -> None:
    broken = tmp_path / "skips.yaml"
    broken.write_text(
        "terraform: []\nkubernetes: [{id: CKV_K8S_43}]\ndockerfile: []\n", encoding="utf-8"
    )
    with pytest.raises(AssertionError):
        load_skips(broken)


def test_report_parsing_lists_only_unskipped_failures() -> None:
    report = [
        {
            "check_type": "kubernetes",
            "summary": {"failed": 2, "parsing_errors": 0, "resource_count": 1},
            "results": {
                "failed_checks": [
                    {"check_id": "CKV_K8S_1", "check_name": "a", "resource": "Pod.x"},
                    {"check_id": "CKV_K8S_2", "check_name": "b", "resource": "Pod.x"},
                ]
            },
        },
        {"passed": 0, "failed": 0},  # nothing scanned for a framework
    ]
    failures, summaries = parse_report(json.dumps(report))
    assert set(failures) == {"kubernetes"} and summaries["kubernetes"]["failed"] == 2
    skips = {"kubernetes": {"CKV_K8S_1": "reason"}, "terraform": {"CKV_K8S_2": "other framework"}}
    assert unskipped(failures, skips) == ["[kubernetes] CKV_K8S_2 b: Pod.x ()"]


@pytest.mark.parametrize("key", PROJECTS)
def test_checkov_passes(
    key: str, scan_of: Callable[[str], tuple[Scan, dict[str, dict[str, int]], Path]]
) -> None:
    failures, summaries, project = scan_of(key)
    expected = ["kubernetes", "dockerfile"]
    if (project / "infra" / "terraform").is_dir():
        expected.append("terraform")
    for framework in expected:
        assert framework in summaries, f"checkov scanned no {framework} files of {key}"
        assert summaries[framework]["resource_count"] > 0, (framework, summaries[framework])
        assert summaries[framework]["parsing_errors"] == 0, (framework, summaries[framework])
    problems = unskipped(failures, load_skips())
    assert not problems, (
        f"checkov failed on {key} (fix, or skip with a reason in tests/checkov_skips.yaml):\n"
        + "\n".join(problems)
    )
    if "terraform" not in expected:
        pytest.skip(f"{key}: no infra/terraform rendered; Kubernetes and Dockerfile checked")


def test_every_skip_still_matches_a_failure(
    scan_of: Callable[[str], tuple[Scan, dict[str, dict[str, int]], Path]],
) -> None:
    failing: dict[str, set[str]] = {framework: set() for framework in FRAMEWORKS}
    for key in PROJECTS:
        failures, _, _ = scan_of(key)
        for framework, found in failures.items():
            failing.setdefault(framework, set()).update(f["check_id"] for f in found)
    stale = [
        f"{framework}: {check_id}"
        for framework, entries in load_skips().items()
        for check_id in entries
        if check_id not in failing[framework]
    ]
    assert not stale, "skips that match no failure any more (remove them):\n" + "\n".join(stale)
