"""Figure saving shared by the notebooks."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from autobuild import _paths
from autobuild.book import plotting  # noqa: E402


@pytest.fixture
def fig():
    plotting.use_style()
    f, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1, 2], [2, 0, 1])
    yield f
    plt.close(f)


def test_saves_png_and_pdf(tmp_path, fig):
    png, pdf = plotting.save_figure(fig, "fig2_hop_srcc", tmp_path)
    assert png == tmp_path / "fig2_hop_srcc.png" and pdf == tmp_path / "fig2_hop_srcc.pdf"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig2_hop_srcc.pdf", "fig2_hop_srcc.png"]


def test_saving_twice_gives_identical_files(tmp_path, fig):
    first = [p.read_bytes() for p in plotting.save_figure(fig, "a", tmp_path / "1")]
    second = [p.read_bytes() for p in plotting.save_figure(fig, "a", tmp_path / "2")]
    assert first == second


@pytest.mark.parametrize("name", ["fig.png", "../fig", "a/b", "", " fig", "_hidden", None])
def test_bad_names_refused_and_nothing_written(tmp_path, fig, name):
    with pytest.raises(ValueError, match="bare stem"):
        plotting.save_figure(fig, name, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_failed_save_leaves_old_figure_and_no_temporary(tmp_path, fig, monkeypatch):
    plotting.save_figure(fig, "fig1", tmp_path)
    old = (tmp_path / "fig1.png").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError):
        plotting.save_figure(fig, "fig1", tmp_path)
    assert (tmp_path / "fig1.png").read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig1.pdf", "fig1.png"]


def test_figures_dir_finds_book_root(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOBUILD_FIGURES_DIR", raising=False)
    (tmp_path / "_toc.yml").write_text("format: jb-book\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert _paths.figures_dir() == tmp_path.resolve() / "figures"


def test_figures_dir_outside_a_book_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOBUILD_FIGURES_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert _paths.figures_dir() == tmp_path.resolve() / "figures"
    monkeypatch.setenv("AUTOBUILD_FIGURES_DIR", str(tmp_path / "elsewhere"))
    assert _paths.figures_dir() == tmp_path / "elsewhere"
