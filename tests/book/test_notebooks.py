"""The book's notebooks: jupytext pairs, parameters, Colab set-up, failing fast, stored state.

Executing the notebooks themselves is nbval's job (see the Makefile's `test` target).
"""
import ast
import importlib.util
import re
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)

NOTEBOOKS = run_notebooks.discover()
PARAMETERS = {"profile", "data_source", "seeds", "device"}


def ids(paths):
    return [p.stem for p in paths]


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_the_book_has_its_first_sections():
    names = [p.stem for p in NOTEBOOKS]
    assert "01_graph_encodings" in names and "02_magnitude_ranked_embeddings" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_jupytext_pair_in_sync(path):
    assert run_notebooks.pair_drift(path) == []


def _copy_pair(tmp_path, name="01_graph_encodings"):
    for ext in (".ipynb", ".py"):
        shutil.copy(ROOT / "notebooks" / f"{name}{ext}", tmp_path / f"{name}{ext}")
    return tmp_path / f"{name}.ipynb", tmp_path / f"{name}.py"


def test_drift_in_source_is_detected(tmp_path):
    ipynb, py = _copy_pair(tmp_path)
    assert run_notebooks.pair_drift(ipynb) == []
    py.write_text(py.read_text().replace('device = "auto"', 'device = "cpu"'))
    assert any("source differs" in d for d in run_notebooks.pair_drift(ipynb))


def test_drift_in_tags_and_cell_count_is_detected(tmp_path):
    ipynb, py = _copy_pair(tmp_path)
    nb = nbformat.read(ipynb, as_version=4)
    code_cells(nb)[0].metadata["tags"] = []
    nb.cells.append(nbformat.v4.new_markdown_cell("an extra cell"))
    nbformat.write(nb, ipynb)
    drift = run_notebooks.pair_drift(ipynb)
    assert any("tags differ" in d for d in drift) and any("cells" in d for d in drift)


def test_missing_pair_is_detected(tmp_path):
    ipynb, py = _copy_pair(tmp_path)
    py.unlink()
    assert run_notebooks.pair_drift(ipynb) == [f"{ipynb.name} has no jupytext pair {py.name}"]


def _assignments(source):
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_first_code_cell_holds_the_parameters(path):
    first = code_cells(jupytext.read(path))[0]
    assert "parameters" in first.metadata.get("tags", [])
    values = _assignments(first.source)
    assert PARAMETERS <= set(values)
    assert values["profile"] == "quick" and values["data_source"] == "embedded" and values["device"] == "auto"
    assert isinstance(values["seeds"], int) and values["seeds"] >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_colab_setup_installs_only_when_missing_from_the_configured_repository(path):
    repo_url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    setup = code_cells(jupytext.read(path))[1]
    assert 'find_spec("autobuild") is None' in setup.source
    assert repo_url in setup.source
    assert "remove-input" in setup.metadata.get("tags", [])


_stamp_spec = importlib.util.spec_from_file_location("stamp_repo_url", ROOT / "scripts" / "stamp_repo_url.py")
stamp_repo_url = importlib.util.module_from_spec(_stamp_spec)
_stamp_spec.loader.exec_module(stamp_repo_url)


def test_stamping_writes_the_configured_url_into_both_files_and_keeps_outputs(tmp_path):
    (tmp_path / "notebooks").mkdir()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"]["url"] = "https://github.com/someone/fork-of-it"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    for ext in (".py", ".ipynb"):
        shutil.copy(ROOT / "notebooks" / f"01_graph_encodings{ext}", tmp_path / "notebooks")
    ipynb = tmp_path / "notebooks" / "01_graph_encodings.ipynb"
    before = nbformat.read(ipynb, as_version=4)
    assert stamp_repo_url.main(["--root", str(tmp_path), "--check"]) == 1
    assert stamp_repo_url.main(["--root", str(tmp_path)]) == 0
    assert stamp_repo_url.main(["--root", str(tmp_path), "--check"]) == 0
    after = nbformat.read(ipynb, as_version=4)
    assert "git+https://github.com/someone/fork-of-it\"" in code_cells(after)[1].source
    assert [c.get("outputs") for c in after.cells] == [c.get("outputs") for c in before.cells]
    assert jupytext.read(tmp_path / "notebooks" / "01_graph_encodings.py").cells[2].source == code_cells(after)[1].source


def test_stamping_refuses_a_config_without_a_url(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: YOUR-ORG\n")
    with pytest.raises(ValueError, match="repository.url must be an http"):
        stamp_repo_url.configured_url(tmp_path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_invalid_profile_stops_the_notebook_in_its_first_cells(path, tmp_path):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = tmp_path / path.name
    with pytest.raises(PapermillExecutionError) as err:
        papermill.execute_notebook(str(path), str(out), parameters={"profile": "nonsense"},
                                   cwd=str(path.parent), progress_bar=False)
    assert err.value.ename == "ValueError"
    assert "'quick', 'full'" in err.value.evalue and "'nonsense'" in err.value.evalue
    executed = [c for c in code_cells(nbformat.read(out, as_version=4)) if c.execution_count]
    assert len(executed) <= 4  # parameters, injected parameters, Colab set-up, validation


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_stored_notebook_is_executed_cleanly(path):
    nb = nbformat.read(path, as_version=4)
    assert "papermill" not in nb.metadata
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    for cell in code_cells(nb):
        assert cell.execution_count is not None, f"{path.name}: a code cell was never run"
        assert not [o for o in cell.outputs if o.output_type == "error"], f"{path.name}: stored error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_saved_figures_exist_under_stable_names(path):
    names = re.findall(r'save_figure\(\w+, "([^"]+)"', path.with_suffix(".py").read_text())
    assert names, f"{path.name} saves no figure"
    for name in names:
        assert re.fullmatch(r"(fig|table)\d+[a-z]?_\w+", name), name
        for ext in ("png", "pdf"):
            assert (ROOT / "figures" / f"{name}.{ext}").is_file(), f"figures/{name}.{ext} missing"


def test_every_notebook_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    for path in NOTEBOOKS:
        assert f"file: notebooks/{path.stem}\n" in toc


def test_runner_refuses_to_store_anything_but_the_quick_defaults():
    for argv in (["--profile", "full"], ["--device", "cuda"], ["--seeds", "3"]):
        with pytest.raises(SystemExit) as exit_info:
            run_notebooks.main(argv)
        assert exit_info.value.code == 2


def test_tidy_removes_run_specific_metadata():
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"duration": 1.0, "input_path": "/somewhere"}
    cell = nbformat.v4.new_code_cell("1", metadata={"papermill": {"duration": 0.1}, "tags": ["parameters"],
                                                    "execution": {"iopub.status.idle": "now"}})
    nb.cells.append(cell)
    run_notebooks.tidy(nb)
    assert "papermill" not in nb.metadata and cell.metadata == {"tags": ["parameters"]}


def test_tidy_collapses_progress_bars_but_keeps_output_order():
    stream = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("train()")
    cell.outputs = [stream("stream", name="stderr", text="\rtrain:   0%| 0/2"),
                    stream("stream", name="stderr", text="\rtrain:  50%| 1/2"),
                    stream("stream", name="stderr", text="\rtrain: 100%| 2/2\n"),
                    stream("stream", name="stdout", text="done\n"),
                    stream("display_data", data={"text/plain": "<Figure>"}),
                    stream("stream", name="stdout", text="abx\b\bc\n"),
                    stream("stream", name="stderr", text="\rcleared:  50%| 1/2\r            ")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    run_notebooks.tidy(nb)
    assert [(o.output_type, o.get("text")) for o in cell.outputs] == [
        ("stream", "train: 100%| 2/2\n"), ("stream", "done\n"), ("display_data", None), ("stream", "ac\n")]


def test_tidy_joins_a_late_stderr_newline_to_the_cells_progress_bar():
    """A bar's closing newline can reach the notebook after a print; nbval joins a cell's stderr."""
    stream = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("select()")
    cell.outputs = [stream("stream", name="stderr", text="\rscore:   0%| 0/2\rscore: 100%| 2/2"),
                    stream("stream", name="stdout", text="picked 4\n"),
                    stream("stream", name="stderr", text="\n")]
    run_notebooks.tidy(nbformat.v4.new_notebook(cells=[cell]))
    assert [(o.name, o.text) for o in cell.outputs] == [("stderr", "score: 100%| 2/2\n"), ("stdout", "picked 4\n")]


@pytest.mark.parametrize("text, value", [("3", 3), ("0.001", 0.001), ("1e-3", 0.001), ("None", None),
                                         ("True", True), ("full", "full"), ("runs/x.parquet", "runs/x.parquet")])
def test_runner_reads_p_values_as_papermill_does(text, value):
    assert run_notebooks.parse_value(text) == value and type(run_notebooks.parse_value(text)) is type(value)


def test_runner_passes_p_parameters_and_rejects_conflicts():
    def collect(*argv):
        return run_notebooks.collect_parameters(run_notebooks.parser().parse_args(list(argv)))

    assert collect() == {"profile": "quick"}
    assert collect("-p", "profile", "full", "-p", "predictor_lr", "0.001") == {"profile": "full", "predictor_lr": 0.001}
    assert collect("--seeds", "2", "-p", "device", "cpu") == {"profile": "quick", "seeds": 2, "device": "cpu"}
    with pytest.raises(ValueError, match="'seeds' given both"):
        collect("--seeds", "2", "-p", "seeds", "3")
    with pytest.raises(ValueError, match="'device' given twice"):
        collect("-p", "device", "cpu", "-p", "device", "cuda")


def test_runner_stops_on_a_parameter_the_notebook_does_not_declare(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_notebooks.main(["--only", "03", "-p", "predictor_Lr", "0.001", "--output-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "predictor_Lr (03_imagenet_construction_and_nas.ipynb)" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing executed, nothing written


def test_notebooks_run_side_by_side_replace_only_what_ran(tmp_path):
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    good = []
    for i in (1, 2):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"print({i} * 21)")])
        nb.metadata["kernelspec"] = kernel
        good.append(tmp_path / f"0{i}_ok.ipynb")
        nbformat.write(nb, good[-1])
    times = run_notebooks.run_in_place(good, timeout=120, env={}, jobs=2)
    assert sorted(times) == ["01_ok.ipynb", "02_ok.ipynb"]
    for i, path in zip((1, 2), good):
        assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"].strip() == str(i * 21)
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('no')")])
    bad.metadata["kernelspec"] = kernel
    path = tmp_path / "03_bad.ipynb"
    nbformat.write(bad, path)
    before = path.read_text()
    with pytest.raises(SystemExit, match="03_bad.ipynb failed"):
        run_notebooks.run_in_place([good[0], path], timeout=120, env={}, jobs=2)
    assert path.read_text() == before  # the stored notebook is unchanged


def test_a_stored_run_goes_stale_when_its_cells_package_data_or_stored_results_change(tmp_path):
    (tmp_path / "notebooks").mkdir()
    ipynb, py = _copy_pair(tmp_path / "notebooks")
    for name, text in {"autobuild/m.py": "x = 1\n", "data/set.csv": "a\n1\n",
                       "figures/fig5_nas_hypervolume_full.csv": "hv\n1\n", "figures/claims.csv": "c\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    nb = nbformat.read(ipynb, as_version=4)
    nb.metadata[run_notebooks.DIGEST_KEY] = run_notebooks.inputs_digest(ipynb, tmp_path)
    nbformat.write(nb, ipynb)
    assert run_notebooks.stale([ipynb], tmp_path) == []
    (tmp_path / "figures/claims.csv").write_text("written by the notebooks themselves\n")
    assert run_notebooks.stale([ipynb], tmp_path) == []
    for name in ("autobuild/m.py", "data/set.csv", "figures/fig5_nas_hypervolume_full.csv"):
        before = (tmp_path / name).read_text()
        (tmp_path / name).write_text(before + "2\n")
        assert run_notebooks.stale([ipynb], tmp_path) == [ipynb], name
        (tmp_path / name).write_text(before)
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[-1].source += "\n# edited"
    nbformat.write(nb, ipynb)
    assert run_notebooks.stale([ipynb], tmp_path) == [ipynb]


def test_stale_only_cannot_go_with_an_output_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_notebooks.main(["--stale-only", "--output-dir", str(tmp_path), "--only", "01"])
    assert "--stale-only" in capsys.readouterr().err
