"""`copier update` from the previous release equals a fresh copy and keeps the user's edits.

The clone may have no release tags, so the test builds its own template history: the
working tree (tracked files plus uncommitted, not-ignored ones) committed and tagged 0.1.0,
then a visible change tagged 0.2.0.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from conftest import (
    REPO,
    SCENARIO_NAMES,
    git_commit_all,
    git_env,
    git_visible_files,
    load_scenario,
    render,
    run,
)

SCENARIO = "saas"
NEW_FILE = "PRODKIT_RELEASE_NOTES.md"
NEW_FILE_TEMPLATE = "# {{ project_name }}: new in prodkit 0.2.0\n\nThis file arrived by update.\n"
README_LINE = "Updated by prodkit 0.2.0."
USER_FUNCTION = '''

def user_added_helper() -> str:
    """Written by the project's developers after the first copy."""
    return "kept across template updates"
'''
USER_FILE = "notes/OUR_NOTES.md"


def git(*args: str, cwd: Path) -> str:
    return run(["git", *args], cwd=cwd, env=git_env()).stdout


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template with two tagged releases, 0.1.0 and 0.2.0."""
    repo = tmp_path_factory.mktemp("template-history") / "prodkit"
    repo.mkdir()
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=REPO)
    copied = []
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if not (src.is_file() or src.is_symlink()):
            continue  # deleted in the working tree, or a submodule
        dst = repo / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
        copied.append(rel)
    assert (repo / "copier.yml").is_file()
    assert (repo / "template").is_dir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=git_env())
    # Exactly the listed files, even those a .gitignore inside template/ would hide
    # (the source repository tracks them on purpose).
    run(
        ["git", "add", "-f", "--pathspec-from-file=-", "--pathspec-file-nul"],
        cwd=repo,
        env=git_env(),
        input="\0".join(copied),
    )
    git_commit_all(repo, "prodkit 0.1.0")
    git("tag", "0.1.0", cwd=repo)

    (repo / "template" / f"{NEW_FILE}.jinja").write_text(NEW_FILE_TEMPLATE, encoding="utf-8")
    readme = repo / "template" / "README.md.jinja"
    if readme.exists():
        text = readme.read_text(encoding="utf-8")
        readme.write_text(text.rstrip("\n") + f"\n\n{README_LINE}\n", encoding="utf-8")
    git_commit_all(repo, "prodkit 0.2.0: release notes file")
    git("tag", "0.2.0", cwd=repo)
    return repo


def tree(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in git_visible_files(root)}


def without_commit_line(text: bytes) -> list[bytes]:
    return [line for line in text.splitlines() if not line.startswith(b"_commit:")]


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_update_equals_fresh_copy_and_keeps_edits(
    scenario: str, template_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in git_env().items():
        if key.startswith("GIT_"):
            monkeypatch.setenv(key, value)
    data = load_scenario(scenario)
    slug = data["project_slug"]

    # A project made at 0.1.0, committed, then edited by its developers.
    project = render(tmp_path / "project", data, vcs_ref="0.1.0", src=template_repo)
    assert not (project / NEW_FILE).exists()
    git_commit_all(project, "initial copy from prodkit 0.1.0")
    env_before = (project / ".env").read_bytes()
    module = project / "src" / slug / "__init__.py"
    original_module = module.read_text(encoding="utf-8")
    module.write_text(original_module + USER_FUNCTION, encoding="utf-8")
    (project / USER_FILE).parent.mkdir(parents=True, exist_ok=True)
    (project / USER_FILE).write_text("# Our notes\n", encoding="utf-8")
    git_commit_all(project, "our own changes")

    import copier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(
            str(project), defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref="0.2.0"
        )

    # The release's change arrived...
    assert (
        (project / NEW_FILE)
        .read_text(encoding="utf-8")
        .startswith(f"# {data['project_name']}: new in prodkit 0.2.0")
    )
    if (template_repo / "template" / "README.md.jinja").exists():
        assert README_LINE in (project / "README.md").read_text(encoding="utf-8")
    # ...the user's edits survived...
    assert USER_FUNCTION in module.read_text(encoding="utf-8")
    assert (project / USER_FILE).read_text(encoding="utf-8") == "# Our notes\n"
    # ...and the secrets made at the first copy were not replaced.
    assert (project / ".env").read_bytes() == env_before
    leftovers = [p for p in git_visible_files(project) if p.endswith((".rej", ".orig"))]
    assert not leftovers, f"update left conflict files: {leftovers}"

    # Apart from those edits, the project equals a fresh copy of 0.2.0.
    fresh = render(tmp_path / "fresh", data, vcs_ref="0.2.0", src=template_repo)
    updated_tree, fresh_tree = tree(project), tree(fresh)
    assert USER_FILE in updated_tree
    del updated_tree[USER_FILE]
    assert sorted(updated_tree) == sorted(fresh_tree), (
        f"only after update: {sorted(set(updated_tree) - set(fresh_tree))}; "
        f"only in fresh copy: {sorted(set(fresh_tree) - set(updated_tree))}"
    )
    edited = f"src/{slug}/__init__.py"
    assert updated_tree.pop(edited) == fresh_tree.pop(edited) + USER_FUNCTION.encode()
    answers = ".copier-answers.yml"
    assert without_commit_line(updated_tree.pop(answers)) == without_commit_line(
        fresh_tree.pop(answers)
    )
    differing = sorted(rel for rel in fresh_tree if fresh_tree[rel] != updated_tree[rel])
    assert not differing, f"differ from a fresh copy of 0.2.0: {differing}"
    assert b"_commit: 0.2.0" in (project / answers).read_bytes()


def test_update_without_changes_is_a_no_op(
    template_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updating to the release a project already has touches nothing."""
    for key, value in git_env().items():
        if key.startswith("GIT_"):
            monkeypatch.setenv(key, value)
    project = render(
        tmp_path / "project", load_scenario(SCENARIO), vcs_ref="0.2.0", src=template_repo
    )
    git_commit_all(project, "copy from prodkit 0.2.0")
    before = tree(project)
    env_before = (project / ".env").read_bytes()

    import copier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(
            str(project), defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref="0.2.0"
        )
    assert tree(project) == before
    assert (project / ".env").read_bytes() == env_before
    assert git("status", "--porcelain", cwd=project).strip() == ""
