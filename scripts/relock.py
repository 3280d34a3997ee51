"""Refresh template/uv.lock.jinja: the generated project's lock file.

Renders each scenario, runs `uv lock` in it and stores the lock with the project's name turned
back into Jinja. All domains must resolve to the same lock (apart from the name); the script
fails loudly otherwise. Run it after changing dependencies in template/pyproject.toml.jinja:

    uv run python scripts/relock.py
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import copier
import yaml

REPO = Path(__file__).resolve().parent.parent
NAME = "{{ project_slug | replace('_', '-') }}"
SEP = "\n[[package]]\n"


def lock_for(scenario: Path, workdir: Path) -> str:
    data = yaml.safe_load(scenario.read_text())
    dst = workdir / scenario.stem
    copier.run_copy(str(REPO), dst, data=data, defaults=True, unsafe=True, quiet=True)
    (dst / "uv.lock").unlink(missing_ok=True)
    subprocess.run(["uv", "lock", "--quiet"], cwd=dst, check=True)
    header, *packages = (dst / "uv.lock").read_text().split(SEP)
    name = data["project_slug"].replace("_", "-")
    (root,) = [p for p in packages if p.startswith(f'name = "{name}"\n')]
    others = [p for p in packages if p is not root]
    # The project's own entry goes first, so its position does not depend on its name; uv
    # accepts the order (`uv lock --check` passes) and does not rewrite it.
    root = root.replace(f'name = "{name}"\n', f'name = "{NAME}"\n', 1)
    return SEP.join([header, root, *others])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        locks = {s.stem: lock_for(s, Path(tmp)) for s in sorted((REPO / "scenarios").glob("*.yml"))}
    distinct = set(locks.values())
    if len(distinct) != 1:
        print("domains resolve to different locks:", ", ".join(locks), file=sys.stderr)
        return 1
    (REPO / "template" / "uv.lock.jinja").write_text(distinct.pop())
    print("template/uv.lock.jinja updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
