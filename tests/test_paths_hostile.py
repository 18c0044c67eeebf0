"""Environment variables naming a folder: a ``~user`` of no user is named, not a traceback."""
import pytest

from autobuild import _paths
from autobuild.cli import main


def test_a_cache_under_an_unknown_user_is_named(monkeypatch, capsys):
    monkeypatch.setenv("AUTOBUILD_CACHE", "~nosuchuser-autobuild/c")
    with pytest.raises(ValueError, match=r"\$AUTOBUILD_CACHE='~nosuchuser-autobuild/c': '~nosuchuser-autobuild' "
                                         "names no user"):
        _paths.cache_dir()
    assert main(["data", "list"]) == 2
    assert "autobuild: error: $AUTOBUILD_CACHE" in capsys.readouterr().err


def test_shared_data_under_an_unknown_user_is_named(monkeypatch):
    monkeypatch.setenv("AUTOBUILD_SHARED_DATA", "~nosuchuser-autobuild")
    with pytest.raises(ValueError, match="AUTOBUILD_SHARED_DATA"):
        _paths.shared_data_dir()
