"""Papermill parameter validation shared by every notebook."""
import numpy as np
import pytest
import torch

from autobuild.book import params as nbp

SECTION = "02_magnitude_ranked_embeddings"


def valid(**overrides):
    kwargs = dict(profile="quick", data_source="embedded", seeds=1, device="cpu")
    kwargs.update(overrides)
    return nbp.validate(SECTION, **kwargs)


@pytest.mark.parametrize("profile", ["nonsense", "Quick", "", None, 1])
def test_bad_profile_names_allowed_values(profile):
    with pytest.raises(ValueError, match=r"profile must be one of 'quick', 'full'"):
        valid(profile=profile)


def test_bad_profile_is_reported_before_other_bad_values():
    with pytest.raises(ValueError, match="profile"):
        nbp.validate(SECTION, "nonsense", "nowhere", 0, "tpu")


@pytest.mark.parametrize("source", ["nowhere/at/all.parquet", "", "Embedded", 3])
def test_bad_data_source_names_allowed_values(source):
    with pytest.raises(ValueError, match=r"'embedded', 'paper' or an existing path"):
        valid(data_source=source)


def test_existing_path_is_a_data_source_and_made_absolute(tmp_path, monkeypatch):
    (tmp_path / "cache.pkl").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    params = valid(data_source="cache.pkl")
    assert params.data_source == str(tmp_path / "cache.pkl")


@pytest.mark.parametrize("seeds", [0, -2, 1.5, 2.0, "3", True, None])
def test_bad_seeds(seeds):
    with pytest.raises(ValueError, match="seeds must be a positive integer"):
        valid(seeds=seeds)


def test_numpy_integer_seeds_accepted():
    assert valid(seeds=np.int64(4)).seeds == 4


@pytest.mark.parametrize("device", ["tpu", "cuda:0", "CPU", None])
def test_bad_device_names_allowed_values(device):
    with pytest.raises(ValueError, match=r"device must be one of 'auto', 'cpu', 'cuda'"):
        valid(device=device)


def test_auto_device_follows_torch(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert valid(device="auto").device == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert valid(device="auto").device == "cuda"


def test_cuda_without_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA"):
        valid(device="cuda")


def test_settings_follow_profile():
    quick, full = valid(profile="quick").settings, valid(profile="full").settings
    assert quick.profile == "quick" and full.profile == "full"
    assert quick.n_archs < full.n_archs and quick.epochs < full.epochs
    # The full profile is the paper's setting: 3k architectures, 200 epochs, every label.
    assert (full.n_archs, full.epochs) == (3000, 200)
    assert set(full.labels) == {"acc", "latency_gpu", "latency_cpu", "latency_npu"}


def test_settings_table_lists_every_setting():
    settings = valid().settings
    frame = settings.to_frame()
    assert list(frame.index) == list(settings.values)
    assert frame.loc["epochs", "value"] == str(settings.epochs)


def test_unknown_setting_names_known_ones():
    with pytest.raises(AttributeError, match="n_archs"):
        valid().settings.no_such_setting


def test_settings_cannot_be_changed():
    with pytest.raises(TypeError):
        valid().settings.values["epochs"] = 1


def test_unknown_section_lists_known_sections():
    with pytest.raises(ValueError, match="01_graph_encodings"):
        nbp.validate("99_nothing", "quick", "embedded", 1, "cpu")


def test_section_may_bring_its_own_settings():
    own = {"quick": {"steps": 2}, "full": {"steps": 50}}
    assert nbp.validate("05_other", "full", "embedded", 1, "cpu", settings=own).settings.steps == 50
    with pytest.raises(ValueError, match="lack profile"):
        nbp.validate("05_other", "quick", "embedded", 1, "cpu", settings={"quick": {}})


def test_source_for_maps_a_folder_to_the_space_file(tmp_path):
    assert nbp.source_for("embedded", "pn") == "embedded"
    assert nbp.source_for("paper", "mbv3") == "paper"
    single = tmp_path / "mine.parquet"
    single.write_bytes(b"")
    assert nbp.source_for(str(single), "pn") == str(single)
    assert nbp.source_for(str(tmp_path), "pn") == str(tmp_path / "ofa_pn.parquet")
    with pytest.raises(ValueError, match="no file name is known for space 'unet'"):
        nbp.source_for(str(tmp_path), "unet")


def test_override_keeps_the_profile_value_unless_given():
    assert nbp.check_override("predictor_lr", None, 1e-4, below=1) == 1e-4
    assert nbp.check_override("predictor_lr", 0.001, 1e-4, below=1) == 0.001
    got = nbp.check_override("predictor_epochs", np.int64(15), 200, integer=True)
    assert got == 15 and type(got) is int


@pytest.mark.parametrize("value", [0, -1e-3, 1.0, 2, float("nan"), True, "0.001"])
def test_bad_learning_rate_override_is_refused(value):
    with pytest.raises(ValueError, match=r"predictor_lr must be None \(the profile's 0.0001\) or a positive number below 1"):
        nbp.check_override("predictor_lr", value, 1e-4, below=1)


@pytest.mark.parametrize("value", [0, -5, 15.0, 1.5, False, "15"])
def test_bad_epochs_override_is_refused(value):
    with pytest.raises(ValueError, match=r"predictor_epochs must be None \(the profile's 200\) or a positive integer"):
        nbp.check_override("predictor_epochs", value, 200, integer=True)


def test_model_parameter_names_a_predictor_variant():
    assert nbp.check_model("companion") == "companion" and nbp.check_model("authors") == "authors"
    for bad in ("gcn", None, 1):
        with pytest.raises(ValueError, match="unknown predictor model .*use one of companion, authors"):
            nbp.check_model(bad)


def test_train_config_takes_the_profile_and_the_parameters():
    params = nbp.validate("03_imagenet_construction_and_nas", "quick", "embedded", 2, "cpu")
    config = nbp.train_config(params, model="authors")
    assert (config.epochs, config.lr) == (params.settings.epochs, params.settings.lr)
    assert (config.device, config.model, config.progress) == ("cpu", "authors", False)
    assert nbp.train_config(params, epochs=3, lr=0.5).epochs == 3
    with pytest.raises(ValueError, match="epochs"):
        nbp.train_config(params, epochs=0)


def test_an_unusable_figures_folder_stops_the_notebook_at_validation(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setenv("AUTOBUILD_FIGURES_DIR", str(blocker / "figures"))
    with pytest.raises(NotADirectoryError, match="figures folder .* is under .*a_file.*AUTOBUILD_FIGURES_DIR"):
        nbp.validate("01_graph_encodings", "quick", "embedded", 1, "cpu")


def test_readout_parameter_names_a_subgraph_readout():
    assert nbp.check_readout("pooled") == "pooled" and nbp.check_readout("root") == "root"
    with pytest.raises(ValueError, match="readout must be one of 'pooled', 'root'"):
        nbp.check_readout("last")


def test_a_section_that_compares_seeds_needs_two():
    assert nbp.validate("02_score_quality", "quick", "embedded", 2, "cpu").seeds == 2
    assert nbp.validate("03_imagenet_construction_and_nas", "quick", "embedded", 1, "cpu").seeds == 1
    with pytest.raises(ValueError, match="seeds must be at least 2 here \\(intervals pair seeds\\); got 1"):
        nbp.validate("06_measured_truth", "quick", "embedded", 1, "cpu")


def test_ran_for_names_the_section_by_its_label():
    params = nbp.validate("02_score_quality", "quick", "embedded", 2, "cpu")
    assert params.ran_for().startswith("section 02 ran in ") and params.ran_for().endswith("on cpu (quick profile)")
    assert params.ran_for("2b").startswith("section 2b ran in ")
