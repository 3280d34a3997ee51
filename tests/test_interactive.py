"""A person at a terminal answers copier's prompts for the saas scenario; the project equals
the one rendered from scenarios/saas.yml (apart from .env, whose secrets are fresh)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from conftest import REPO, load_scenario, parse_env_file, render, rendered_files

pexpect = pytest.importorskip("pexpect")

SCENARIO = "saas"
DOWN, ENTER, SPACE, CLEAR_LINE = "\x1b[B", "\r", " ", "\x15"  # Ctrl-U empties a text prompt
UP = "\x1b[A"


def copier_bin() -> str:
    candidate = Path(sys.executable).parent / "copier"
    found = str(candidate) if candidate.exists() else shutil.which("copier")
    if not found:
        pytest.skip("the copier command is not installed")
    return found


def questions() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((REPO / "copier.yml").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_") and isinstance(v, dict)}


def choice_values(question: dict[str, Any]) -> list[Any]:
    choices = question["choices"]
    return list(choices.values()) if isinstance(choices, dict) else list(choices)


class Terminal:
    """A copier session in a pseudo-terminal, answered like a person would."""

    def __init__(self, dst: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(
            TERM="xterm-256color",
            COLUMNS="120",
            LINES="60",
            NO_COLOR="1",
            # A pty does not answer cursor-position requests; without this,
            # prompt_toolkit waits about a second for the answer at every prompt.
            PROMPT_TOOLKIT_NO_CPR="1",
        )
        self.log = log.open("w", encoding="utf-8")
        self.child = pexpect.spawn(
            copier_bin(),
            ["copy", "--trust", str(REPO), str(dst)],
            env=env,
            dimensions=(60, 120),
            encoding="utf-8",
            timeout=60,
        )
        self.child.logfile_read = self.log

    def wait_for(self, name: str, question: dict[str, Any]) -> None:
        help_text = str(question.get("help") or name).split("(")[0].strip()
        try:
            self.child.expect_exact(help_text)
        except (pexpect.TIMEOUT, pexpect.EOF) as error:
            self.log.flush()
            pytest.fail(
                f"prompt {help_text!r} did not come ({type(error).__name__}); "
                f"terminal so far:\n{self.child.before}",
                pytrace=False,
            )
        time.sleep(0.2)  # let prompt_toolkit finish drawing before keys arrive

    def type_text(self, text: str | None) -> None:
        """Keep the default (None) or replace it with `text`."""
        self.child.send(ENTER if text is None else CLEAR_LINE + text + ENTER)

    def select(self, question: dict[str, Any], value: Any) -> None:
        values = choice_values(question)
        moves = values.index(value) - values.index(question.get("default", values[0]))
        self.child.send((DOWN if moves > 0 else UP) * abs(moves) + ENTER)

    def multiselect(self, question: dict[str, Any], chosen: list[Any]) -> None:
        keys, position = "", 0
        for index, value in enumerate(choice_values(question)):
            if value in chosen:
                keys += DOWN * (index - position) + SPACE
                position = index
        self.child.send(keys + ENTER)

    def finish(self) -> None:
        try:
            self.child.expect(pexpect.EOF, timeout=600)
        finally:
            self.child.close()
            self.log.close()
        assert self.child.exitstatus == 0, f"copier exited with {self.child.exitstatus}"


def test_interactive_copy_matches_data_file(tmp_path: Path) -> None:
    data = load_scenario(SCENARIO)
    qs = questions()
    interactive = tmp_path / "interactive"
    term = Terminal(interactive, tmp_path / "terminal.log")
    for name, question in qs.items():
        # `when` is literal (false: computed, never asked) or a condition on earlier answers.
        when = jinja2.Template(str(question.get("when", True))).render(**data)
        if when.strip().lower() in {"false", "no", "0"}:
            continue
        term.wait_for(name, question)
        if question.get("multiselect"):
            term.multiselect(question, data.get(name, question.get("default", [])))
        elif "choices" in question:
            term.select(question, data.get(name, question.get("default")))
        elif question.get("type") == "bool":
            value = data.get(name)
            term.child.send(ENTER if value is None else ("y" if value else "n"))
        else:
            term.type_text(data.get(name))  # None: keep the default, as the data file does
    term.finish()

    from_file = render(tmp_path / "from_file", data)

    answers = yaml.safe_load((interactive / ".copier-answers.yml").read_text(encoding="utf-8"))
    for name, value in data.items():
        assert answers[name] == value, name

    files = rendered_files(interactive)
    assert files == rendered_files(from_file)
    differing = []
    for rel in files:
        if rel == ".env":  # fresh secrets in each copy; compared by keys below
            continue
        a, b = (interactive / rel).read_bytes(), (from_file / rel).read_bytes()
        if rel == ".copier-answers.yml":  # ordering aside; a dirty checkout's wip commit differs
            a_answers, b_answers = (
                {k: v for k, v in yaml.safe_load(x).items() if k != "_commit"} for x in (a, b)
            )
            if a_answers != b_answers:
                differing.append(rel)
        elif a != b:
            differing.append(rel)
    assert not differing, f"interactive and data-file copies differ: {differing}"
    assert list(parse_env_file(interactive / ".env")) == list(parse_env_file(from_file / ".env"))
