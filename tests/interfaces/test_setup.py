"""`make run`'s set-up: one line a step on the terminal, pip's own output in a log, and the
log's last lines and a non-zero exit when a step fails; run with the real pip and make."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO

STEP = REPO / "scripts" / "quiet_step.sh"


def step(log: Path, label: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(STEP), str(log), label, *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_step_that_works_prints_one_line_and_logs_pip(tmp_path):
    log = tmp_path / "cache" / "install.log"
    done = step(
        log, "checking pip", sys.executable, "-m", "pip", "list", "--disable-pip-version-check"
    )
    assert done.returncode == 0
    assert done.stdout.startswith("checking pip ... done (") and done.stdout.endswith(" s)\n")
    assert done.stderr == ""
    # pip's list is in the log, with the command that made it, and not on the terminal.
    logged = log.read_text()
    assert "-m pip list" in logged and "typer" in logged and "typer" not in done.stdout


def test_a_step_that_fails_shows_the_log_s_tail_and_exits_with_its_status(tmp_path):
    log = tmp_path / "install.log"
    failed = step(
        log,
        "installing a package that is nowhere",
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-index",
        "--disable-pip-version-check",
        "qa-no-such-package-28",
    )
    assert failed.returncode != 0
    assert failed.stdout == "installing a package that is nowhere ... failed\n"
    assert "No matching distribution found for qa-no-such-package-28" in failed.stderr
    assert failed.stderr.rstrip().endswith(f"the whole log is {log}")


def test_make_runs_every_pip_install_through_the_quiet_step(tmp_path):
    planned = subprocess.run(
        ["make", "-n", "run", "test", f"VENV={tmp_path / 'venv'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    installs = [line for line in planned.splitlines() if " install " in line]
    assert len(installs) >= 3
    assert all(line.startswith("sh scripts/quiet_step.sh .cache/install.log ") for line in installs)


def test_make_run_without_python_3_11_says_so(tmp_path):
    refused = subprocess.run(
        ["make", "run", f"VENV={tmp_path / 'venv'}", "PYTHON=python3.11-not-here"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    assert "error: qa needs Python 3.11" in refused.stderr
    assert "PYTHON=/path/to/python3.11" in refused.stderr
    assert not (tmp_path / "venv").exists()
