"""The Makefile and the package metadata, as a newcomer meets them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: What installing and checking leave behind, all of which ``make clean`` removes.
MADE = (
    ".venv/bin",
    "build/lib",
    "technyan_bot.egg-info",
    ".pytest_cache",
    ".hypothesis",
    "mutants/bot",
)
#: Coverage data files ``make test`` leaves behind, also removed.
MADE_FILES = (".coverage", ".coverage.host.pid42.XaBc")


def make(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", *arguments], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder holding the Makefile, what installing and testing leave behind, and what
    a running bot keeps: its configuration, its corpus and both databases."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    for folder in MADE:
        (tmp_path / folder).mkdir(parents=True)
    for folder in ("bot/__pycache__", "tests/__pycache__", "bench", "corpus/articles"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "bot/__pycache__/cli.cpython-311.pyc").write_bytes(b"\0")
    for made in MADE_FILES:
        (tmp_path / made).write_bytes(b"\0")
    (tmp_path / "data").mkdir()
    for precious in ("data/state.db", "data/index.db", "config.toml", "corpus/articles/a.md"):
        (tmp_path / precious).write_text(precious, encoding="utf-8")
    return tmp_path


def test_make_clean_never_deletes_state_or_anything_precious(checkout: Path) -> None:
    done = make("clean", cwd=checkout)
    assert done.returncode == 0, done.stderr
    for precious in ("data/state.db", "data/index.db", "config.toml", "corpus/articles/a.md"):
        assert (checkout / precious).read_text(encoding="utf-8") == precious
    for made in [folder.split("/")[0] for folder in MADE] + ["bot/__pycache__", *MADE_FILES]:
        assert not (checkout / made).exists(), made


def test_make_test_shows_why_tests_were_skipped(tmp_path: Path) -> None:
    """The pytest command of ``make test`` lists each skipped test with its reason."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".installed").touch()
    (tmp_path / "pyproject.toml").touch()
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    planned = make("-n", "test", cwd=tmp_path).stdout.splitlines()
    (pytest_command,) = [line for line in planned if " -m pytest" in line]
    arguments = pytest_command.split(" -m pytest", 1)[1].split()
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "def test_needs_the_site() -> None:\n"
        "    pytest.skip('real corpus not found at ../shared')\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *arguments, "-p", "no:cacheprovider", "test_sample.py"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert "1 skipped" in done.stdout
    assert "real corpus not found at ../shared" in done.stdout


def test_the_package_metadata_builds_without_deprecation_warnings() -> None:
    """setuptools reads pyproject.toml as ``pip install`` does, and warns about nothing
    (a ``project.license`` table is deprecated since setuptools 77)."""
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        apply_configuration(Distribution(), REPO / "pyproject.toml")
    messages = [str(w.message).splitlines()[0] for w in caught if "Deprecat" in w.category.__name__]
    assert messages == []
