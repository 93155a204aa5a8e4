"""The old code `make bench` races the new against: a commit of this repository (`COMMIT`, or
`BENCH_BASELINE`), its tree unpacked in a temporary folder beside the working tree and run
from there, so both codes are measured in one run on the same machine, database server
and Stripe stand-in.

Everything of the old side is its own: its gunicorn starts in its folder with its
`gunicorn.conf.py`, and its buyers' tokens are issued by its own `security.issue_token`
(`checkout_tokens.py`), so a change to the tokens in the new code cannot make the old code
refuse them, or the other way round.
"""

import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.bench.race import app_config, insert_buyers

ROOT = Path(__file__).resolve().parents[2]
COMMIT = "42662ca"  # the last commit before issue 22's changes
TOKENS_PROGRAM = Path(__file__).with_name("checkout_tokens.py")


def described(commit):
    """The commit's short hash and subject.

    :raise SystemExit: the repository does not have it (a shallow clone), in one line that says how to get it.
    """
    found = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h%n%s", f"{commit}^{{commit}}", "--"],
                           capture_output=True, text=True)
    if found.returncode:
        raise SystemExit(f"make bench: the baseline commit {commit} is not in this repository (a shallow clone?): "
                         f"fetch it with `git fetch --unshallow`, or name one it has with BENCH_BASELINE=<commit>")
    short, subject = found.stdout.strip().split("\n", 1)
    return {"commit": short, "subject": subject}


@contextmanager
def checkout(commit):
    """The tree of `commit` (`git archive`, so the repository is left as it was) in a
    temporary folder, removed on leaving whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix="ticket_api_baseline_"))
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True,
                                 check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tree:
            tree.extractall(folder, filter="data")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def seed_buyers(folder, uri, database, count, data_dir):
    """`count` users stored directly, and their tokens, issued by the code in `folder`.

    :raise SystemExit: a program started there imports `ticket_api` from elsewhere.
    """
    ids = [str(user["_id"]) for user in insert_buyers(uri, database, count)]
    config = app_config(uri, database, data_dir)
    ran = subprocess.run([sys.executable, "-c", TOKENS_PROGRAM.read_text(), json.dumps(config), json.dumps(ids)],
                         cwd=folder, capture_output=True, text=True)
    if ran.returncode:
        raise SystemExit(f"make bench: the code in {folder} could not issue its buyers' tokens:\n{ran.stderr}")
    issued = json.loads(ran.stdout.splitlines()[-1])
    package = Path(issued["package"]).resolve()
    if not package.is_relative_to(Path(folder).resolve()):
        raise SystemExit(f"make bench: a program started in {folder} imports ticket_api from {package.parent}")
    return [{"Authorization": f"Bearer {token}"} for token in issued["tokens"]]
