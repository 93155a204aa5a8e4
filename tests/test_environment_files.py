"""The settings files an operator copies are read by systemd's `EnvironmentFile`, which has
no inline comments: `WEB_CONCURRENCY=2  # workers` is the value `2  # workers`. Each is
parsed here as systemd.exec(5) says, and every value must be one the app accepts."""

import re
from pathlib import Path

import pytest

from ticket_api.config import Config

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def systemd_environment_file(text):
    """systemd.exec(5), EnvironmentFile=: `KEY=VALUE` lines; empty lines and lines starting
    with `#` or `;` are ignored; a `\\` at the end of a line continues it; a value in double
    or single quotes loses them (backslash escapes inside double quotes); otherwise leading
    and trailing whitespace is removed and everything else, `#` included, is the value."""
    variables = {}
    lines = iter(text.splitlines())
    for line in lines:
        while line.endswith("\\"):
            line = line[:-1] + next(lines, "")
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        name, equals, value = line.partition("=")
        assert equals and NAME.fullmatch(name.strip()), f"not KEY=VALUE: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r'\\(.)', r"\1", value[1:-1])
        elif len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        variables[name.strip()] = value
    return variables


def readme_env_block():
    """The `.env` of deploy/README.md's step 3."""
    readme = (ROOT / "deploy" / "README.md").read_text()
    section = readme[readme.index("## 3. Settings"):readme.index("## 4.")]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


FILES = {".env.example": (ROOT / ".env.example").read_text(), "deploy/README.md step 3": readme_env_block()}


def test_the_parser_reads_as_systemd_does():
    text = '# c\n; c\nA=1   # workers\nB="two words"\nC=\'x # y\'\n  D = spaced  \nE=con\\\ntinued\n'

    assert systemd_environment_file(text) == {
        "A": "1   # workers", "B": "two words", "C": "x # y", "D": "spaced", "E": "continued",
    }


@pytest.mark.parametrize("name", FILES)
def test_no_value_carries_a_comment(name):
    variables = systemd_environment_file(FILES[name])

    assert variables
    assert {key: value for key, value in variables.items() if "#" in value} == {}


@pytest.mark.parametrize("name", FILES)
def test_every_value_is_one_the_app_accepts(name, monkeypatch):
    variables = systemd_environment_file(FILES[name])
    for key, value in variables.items():
        monkeypatch.setenv(key, value)

    config = Config()  # raises ConfigError naming any malformed number or inline comment

    assert int(variables["WEB_CONCURRENCY"]) == config.WEB_CONCURRENCY
    assert set(variables) <= set(config.as_dict()) | {"HOST", "PORT", "EMBEDDED_DB_PORT", "EMBEDDED_STRIPE_PORT"}
    for key in ("PORT", "EMBEDDED_DB_PORT", "EMBEDDED_STRIPE_PORT"):
        assert variables.get(key, "0").isdigit()


def test_the_unit_has_no_comment_after_a_value():
    """A unit file has no inline comments either: `KillMode=mixed  # why` is an invalid value."""
    unit = (ROOT / "deploy" / "ticket-api.service").read_text()

    assert [line for line in unit.splitlines() if "#" in line and not line.lstrip().startswith("#")] == []
