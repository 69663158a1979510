"""Shared fixtures: the built-in data, and a small data folder tests may break."""
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
MINI = Path(__file__).parent / "fixtures" / "mini"


@pytest.fixture(scope="session")
def library():
    from formgen.check import open_library
    return open_library(ROOT / "data")


@pytest.fixture
def mini(tmp_path):
    """A writable copy of the small valid data set."""
    target = tmp_path / "data"
    shutil.copytree(MINI, target)
    return target


@pytest.fixture
def run():
    """Invoke the CLI as a user would; returns the click Result."""
    from formgen.cli import cli

    def invoke(*args, data=None):
        env = {"FORMGEN_DATA": str(data)} if data else {}
        return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
    return invoke
