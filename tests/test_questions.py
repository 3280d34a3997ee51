"""The questionnaire: validators refuse what they should, with their message, and write nothing;
valid answers render; no secret leaks into the answers file or any tracked file."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, git_visible_files, load_scenario, parse_env_file, render, run

sys.path.insert(0, str(REPO / "extensions"))
derive = importlib.import_module("derive")

SLUG_MESSAGE = "'{}' is not a usable Python package name"
EMAIL_MESSAGE = "'{}' is not an email address"
NAME_MESSAGE = "Give the service a name"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|SALT|PRIVATE|(^|_)KEY($|_)", re.IGNORECASE)

DEFAULTS = {
    "business_domain": "ecommerce",
    "user_scale": "small",
    "infrastructure": "aws",
    "budget_constraints": "startup",
    "compliance_requirements": [],
}


def refusal_for(data: dict[str, Any]) -> str:
    message = derive.refusal({**DEFAULTS, **data})
    assert message, f"{data} should be contradictory"
    return message


BAD_ANSWERS = [
    pytest.param({"project_name": ""}, NAME_MESSAGE, id="empty-name"),
    pytest.param({"project_name": "   "}, NAME_MESSAGE, id="blank-name"),
    *(
        pytest.param({"project_slug": slug}, SLUG_MESSAGE.format(slug), id=f"slug-{slug}")
        for slug in ("1abc", "class", "Acme-Shop", "acme shop", "acme-shop", "Acme_Shop")
    ),
    *(
        pytest.param({"author_email": email}, EMAIL_MESSAGE.format(email), id=f"email-{email}")
        for email in ("not-an-email", "a@b", "two words@example.com", "@example.com")
    ),
    pytest.param(
        {"user_scale": "large", "budget_constraints": "startup"},
        refusal_for({"user_scale": "large", "budget_constraints": "startup"}),
        id="large-startup",
    ),
    pytest.param(
        {
            "business_domain": "saas",
            "budget_constraints": "growth",
            "compliance_requirements": ["PCI-DSS"],
        },
        refusal_for({"business_domain": "saas", "compliance_requirements": ["PCI-DSS"]}),
        id="pci-saas",
    ),
    pytest.param(
        {
            "business_domain": "ecommerce",
            "budget_constraints": "startup",
            "compliance_requirements": ["GDPR", "HIPAA"],
        },
        refusal_for({"compliance_requirements": ["HIPAA"]}),
        id="hipaa-startup",
    ),
    pytest.param(
        {"infrastructure": "multi-cloud", "clouds": ["gcp"]},
        refusal_for({"infrastructure": "multi-cloud", "clouds": ["gcp"]}),
        id="multi-cloud-one-cloud",
    ),
    pytest.param(
        {"infrastructure": "multi-cloud", "clouds": ["aws", "gcp"], "primary_cloud": "azure"},
        refusal_for(
            {"infrastructure": "multi-cloud", "clouds": ["aws", "gcp"], "primary_cloud": "azure"}
        ),
        id="primary-not-chosen",
    ),
    pytest.param(
        {"user_scale": "medium", "infrastructure": "multi-cloud", "budget_constraints": "startup"},
        refusal_for(
            {
                "user_scale": "medium",
                "infrastructure": "multi-cloud",
                "clouds": ["aws", "gcp", "azure"],
            }
        ),
        id="multi-cloud-over-budget",
    ),
    pytest.param(
        {"budget_constraints": "growth", "compliance_requirements": ["FedRAMP"]},
        # Copier's own choice check refuses it first, naming the valid choices.
        "'FedRAMP' is not in ['PCI-DSS', 'GDPR', 'SOC2', 'ISO27001', 'HIPAA']",
        id="unknown-framework",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_ANSWERS)
def test_validator_refuses_and_writes_nothing(
    tmp_path: Path, data: dict[str, Any], message: str
) -> None:
    dst = tmp_path / "project"
    dst.mkdir()
    with pytest.raises(ValueError) as raised:
        render(dst, data)
    text = str(raised.value)
    assert text.startswith(("Validation error for question", "Invalid choice for")), text
    assert message in text, text
    assert list(dst.iterdir()) == [], "a refused copy wrote files"


def test_multi_cloud_refusals_name_the_question() -> None:
    """Fewer than two clouds is refused by the clouds question; a primary outside them by
    the primary_cloud question (both before the budget and compliance questions)."""
    one = refusal_for({"infrastructure": "multi-cloud", "clouds": ["gcp"]})
    assert "at least two" in one and "infrastructure" in one and "gcp" in one
    outside = refusal_for(
        {"infrastructure": "multi-cloud", "clouds": ["aws", "gcp"], "primary_cloud": "azure"}
    )
    assert "'azure'" in outside and "aws, gcp" in outside


@pytest.mark.parametrize(
    ("data", "question"),
    [
        ({"infrastructure": "multi-cloud", "clouds": ["azure"]}, "clouds"),
        (
            {"infrastructure": "multi-cloud", "clouds": ["aws", "azure"], "primary_cloud": "gcp"},
            "primary_cloud",
        ),
    ],
)
def test_cloud_refusals_come_from_their_question(
    tmp_path: Path, data: dict[str, Any], question: str
) -> None:
    with pytest.raises(ValueError, match=f"Validation error for question '?{question}'?"):
        render(tmp_path / "p", data)
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())


def test_data_file_copy_renders_only_the_chosen_clouds(tmp_path: Path) -> None:
    """`copier copy --defaults --data-file`, no prompt: clouds [aws, azure] with azure primary."""
    answers = {
        **load_scenario("devops"),
        "clouds": ["aws", "azure"],
        "primary_cloud": "azure",
    }
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(answers), encoding="utf-8")
    dst = tmp_path / "cloud_watch"
    run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "-q",
            "--trust",
            "--defaults",
            "--data-file",
            data_file,
            REPO,
            dst,
        ],
        cwd=tmp_path,
        input="",
    )
    recorded = yaml.safe_load((dst / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert recorded["clouds"] == ["aws", "azure"] and recorded["primary_cloud"] == "azure"
    costs = (dst / "docs" / "COSTS.md").read_text(encoding="utf-8")
    assert "## azure (primary, " in costs and "## aws (standby, " in costs
    assert "## gcp" not in costs and "Cloud Run" not in costs
    terraform = dst / "infra" / "terraform"
    if terraform.is_dir():
        rendered = {d.name for d in terraform.iterdir() if d.is_dir()} - {"global"}
        assert rendered == {"aws", "azure"}, rendered


def test_refused_copy_leaves_no_directory(tmp_path: Path) -> None:
    dst = tmp_path / "not-created"
    with pytest.raises(ValueError, match="not a usable Python package name"):
        render(dst, {"project_slug": "class"})
    assert not dst.exists()


def test_choices_outside_the_list_are_refused(tmp_path: Path) -> None:
    dst = tmp_path / "project"
    with pytest.raises(ValueError, match="user_scale"):
        render(dst, {"user_scale": "huge"})
    assert not dst.exists() or not any(dst.iterdir())


# ---------------------------------------------------------------------------------------
# Valid answers
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("default") / "acme_service", {})


@pytest.fixture(scope="module")
def saas_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("saas") / "team_hub", load_scenario("saas"))


def test_default_render(default_project: Path) -> None:
    for name in (
        "pyproject.toml",
        "uv.lock",
        "README.md",
        ".env",
        ".env.example",
        ".gitignore",
        ".copier-answers.yml",
        "src/acme_service/__init__.py",
    ):
        assert (default_project / name).is_file(), f"{name} was not rendered"
    answers = yaml.safe_load((default_project / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Acme Service"
    assert answers["project_slug"] == "acme_service"  # derived from the name
    for key, value in DEFAULTS.items():
        assert answers[key] == value, key
    assert "profile" not in answers, "the derived profile must not be stored as an answer"


def test_slug_is_derived_from_the_name(tmp_path: Path) -> None:
    dst = render(tmp_path / "p", {"project_name": "  Zürich Ops-Tool 2 "})
    answers = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "z_rich_ops_tool_2"
    assert (dst / "src" / "z_rich_ops_tool_2").is_dir()


def secrets_of(project: Path) -> dict[str, str]:
    env = parse_env_file(project / ".env")
    return {k: v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= 16}


@pytest.mark.parametrize("which", ["default_project", "saas_project"])
def test_no_secret_outside_env(which: str, request: pytest.FixtureRequest) -> None:
    project: Path = request.getfixturevalue(which)
    secrets = secrets_of(project)
    assert "SECRET_KEY" in secrets, ".env has no generated SECRET_KEY"
    assert len(secrets["SECRET_KEY"]) >= 32
    answers_text = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    visible = git_visible_files(project)
    assert ".env" not in visible
    for key, value in secrets.items():
        assert value not in answers_text, f"{key}'s value is in .copier-answers.yml"
        for rel in visible:
            data = (project / rel).read_bytes()
            assert value.encode() not in data, f"{key}'s value appears in tracked file {rel}"


def test_env_is_git_ignored(default_project: Path) -> None:
    git_visible_files(default_project)  # makes it a git repository
    result = run(["git", "check-ignore", "-v", ".env"], cwd=default_project, check=False)
    assert result.returncode == 0, ".env is not ignored by the project's .gitignore"
    result = run(["git", "check-ignore", ".env.example"], cwd=default_project, check=False)
    assert result.returncode == 1, ".env.example must be tracked"


def test_each_copy_gets_fresh_secrets(default_project: Path, saas_project: Path) -> None:
    assert secrets_of(default_project)["SECRET_KEY"] != secrets_of(saas_project)["SECRET_KEY"]


def undocumented_keys(example: Path) -> list[str]:
    """Keys of a dotenv file without a comment: the line above, or above the run of KEY=
    lines it belongs to (so `HOST=` and `PORT=` may share one comment)."""
    lines = [line.strip() for line in example.read_text(encoding="utf-8").splitlines()]
    missing = []
    for i, line in enumerate(lines):
        if not line or line.startswith("#") or "=" not in line:
            continue
        j = i - 1
        while j >= 0 and lines[j] and not lines[j].startswith("#"):
            j -= 1  # another KEY= line of the same group
        if j < 0 or not lines[j].startswith("#") or not lines[j].lstrip("#").strip():
            missing.append(line.split("=", 1)[0])
    return missing


@pytest.mark.parametrize("which", ["default_project", "saas_project"])
def test_env_example_documents_every_key(which: str, request: pytest.FixtureRequest) -> None:
    project: Path = request.getfixturevalue(which)
    env_keys = set(parse_env_file(project / ".env"))
    example_values = parse_env_file(project / ".env.example")
    assert env_keys <= set(example_values), (
        f".env.example lacks {sorted(env_keys - set(example_values))}"
    )
    assert not undocumented_keys(project / ".env.example"), (
        f".env.example keys without a comment: {undocumented_keys(project / '.env.example')}"
    )
    for key, value in secrets_of(project).items():
        assert example_values[key] != value
