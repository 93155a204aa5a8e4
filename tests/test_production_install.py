"""A production install (`pip install -r requirements.txt` alone, in a fresh venv) imports
every production module; the development stand-ins' packages are not even there."""

import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)

ROOT = Path(__file__).resolve().parent.parent
IMPORT_ALL = """
import importlib, pkgutil, ticket_api
names = [m.name for m in pkgutil.walk_packages(ticket_api.__path__, "ticket_api.")
         if not m.name.startswith("ticket_api.dev")]
for name in names:
    importlib.import_module(name)
for standin in ("secantus", "localstripe", "aiohttp"):
    assert importlib.util.find_spec(standin) is None, standin
print(len(names))
"""


def test_a_production_install_imports_every_production_module(tmp_path):
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    install = subprocess.run(  # no bytecode compiled ahead (--no-compile): what is imported is compiled then
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "-r", ROOT / "requirements.txt"],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stderr

    imported = subprocess.run([python, "-c", IMPORT_ALL], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert imported.returncode == 0, imported.stderr
    assert int(imported.stdout) >= 30  # every module of ticket_api but ticket_api/dev/
