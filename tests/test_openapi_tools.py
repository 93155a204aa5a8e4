"""`/openapi.json` as tools read it, from a live server: `redocly lint` finds nothing to
say (Redocly's recommended rules, and ours: every property of a reply is `required`), and
the TypeScript client `openapi-typescript` generates from it (with the README's command)
compiles under `tsc --strict` with a frontend's first calls (`tests/openapi/example.ts`). The tools are pinned in
`tests/openapi/package.json` (and its lockfile); `make test` installs them with `npm ci`."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)

TOOLS = Path(__file__).parent / "openapi"
BIN = TOOLS / "node_modules" / ".bin"
# openapi-typescript types a request field with a `default` (`quantity`, 1) as required
# unless told not to: a frontend could not leave it out. The README's command says it too.
GENERATOR_OPTIONS = ["--default-non-nullable", "false"]
TSC_OPTIONS = ["--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom", "--module", "esnext",
               "--moduleResolution", "bundler"]


@pytest.fixture
def tool():
    """`tool(name, *args, cwd)`: run a tool of `tests/openapi`."""
    if shutil.which("node") is None or not (BIN / "tsc").exists():
        pytest.fail("the OpenAPI tools are not installed: `make test` installs them (npm ci in tests/openapi)")

    def run(name, *args, cwd):
        return subprocess.run([BIN / name, *args], cwd=cwd, capture_output=True, text=True, timeout=120)

    return run


def test_redocly_lint_finds_no_error_and_no_warning(live_server, tool):
    linted = tool("redocly", "lint", "--config", "redocly.yaml", "--format", "json", f"{live_server}/openapi.json",
                  cwd=TOOLS)

    report = json.loads(linted.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, [
        (problem["ruleId"], problem["message"], problem["location"][0]["pointer"]) for problem in report["problems"]]
    assert linted.returncode == 0, linted.stderr


def test_the_generated_typescript_client_compiles_with_a_frontends_calls(live_server, tool, tmp_path):
    shutil.copy(TOOLS / "example.ts", tmp_path)

    generated = tool("openapi-typescript", f"{live_server}/openapi.json", "-o", "api.ts", *GENERATOR_OPTIONS,
                     cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    checked = tool("tsc", *TSC_OPTIONS, "api.ts", "example.ts", cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_readme_generates_the_client_as_this_test_does():
    readme = (TOOLS.parents[1] / "README.md").read_text()
    command = next(line.split() for line in readme.splitlines() if line.startswith("npx openapi-typescript@"))
    pinned = json.loads((TOOLS / "package.json").read_text())["devDependencies"]["openapi-typescript"]

    assert command[1] == f"openapi-typescript@{pinned}"
    assert " ".join(GENERATOR_OPTIONS) in " ".join(command)
