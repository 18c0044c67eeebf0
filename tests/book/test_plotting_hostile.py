"""The figures folder is checked before any figure is drawn."""
import os

import pytest

@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_figures_folder_is_found_by_the_check(tmp_path, monkeypatch):
    from autobuild.book.plotting import check_figures_dir

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    monkeypatch.setenv("AUTOBUILD_FIGURES_DIR", str(ro / "figures"))
    try:
        with pytest.raises(PermissionError, match="AUTOBUILD_FIGURES_DIR"):
            check_figures_dir()
    finally:
        ro.chmod(0o700)


def test_figures_folder_under_a_file_is_found_by_the_check(tmp_path, monkeypatch):
    from autobuild.book.plotting import check_figures_dir

    (tmp_path / "f").write_text("")
    monkeypatch.setenv("AUTOBUILD_FIGURES_DIR", str(tmp_path / "f" / "figures"))
    with pytest.raises(NotADirectoryError, match="figures folder .* is under"):
        check_figures_dir()
    monkeypatch.setenv("AUTOBUILD_FIGURES_DIR", str(tmp_path / "ok"))
    assert check_figures_dir() == tmp_path / "ok" and (tmp_path / "ok").is_dir()
