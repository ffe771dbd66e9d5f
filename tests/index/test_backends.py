"""The backend choice without the scale extra: the embedded index needs none of it, and asking
for Milvus without it says what to install."""

import subprocess
import sys
from pathlib import Path

from conftest import CORPUS

SCALE_MODULES = ("pymilvus", "milvus_lite", "ray")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_embedded_backend_imports_nothing_of_the_scale_extra(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from qa.config import Settings\n"
        "from qa.pipeline import Pipeline, build\n"
        "import qa.interfaces.http.app, qa.interfaces.cli, qa.interfaces.watch\n"
        f"settings = Settings(corpus={str(CORPUS)!r}, index={str(tmp_path)!r})\n"
        "build(settings)\n"
        # 0.8.0's refit declines "Where do defectors go?", 0.9.0's "Where do North Korean
        # defectors settle?": this asks in the article's own words.
        "print(Pipeline.load(settings).ask('How many North Koreans reside in Canada?')"
        ".answer.answered)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {SCALE_MODULES!r}))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["True", "[]"]


def test_milvus_without_the_scale_extra_says_what_to_install(tmp_path: Path) -> None:
    # As if pymilvus were not installed: an import of it fails.
    code = (
        "import sys\n"
        "sys.modules['pymilvus'] = None\n"
        "from qa.interfaces.cli import main\n"
        f"sys.argv = ['qa', 'index', '--backend', 'milvus', '--index', {str(tmp_path)!r}]\n"
        "main()\n"
    )
    result = run_python(code)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the Milvus backend needs the scale extra: pip install -e '.[scale]'"
    ]


def test_a_bad_backend_is_one_line(tmp_path: Path) -> None:
    qa = str(Path(sys.executable).with_name("qa"))
    result = subprocess.run(
        [qa, "serve", "--backend", "opensearch", "--index", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: bad setting: backend: Input should be 'local' or 'milvus'"
    ]
