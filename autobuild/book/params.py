"""Validation of the papermill parameters every notebook of the book takes.

Each notebook's ``parameters`` cell sets ``profile``, ``data_source``, ``seeds`` and ``device``;
its next cells call :func:`validate`, which refuses bad values at once (naming the allowed
ones), resolves ``device="auto"`` and returns the section's settings for the chosen profile.
"""
from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from autobuild.book.profiles import SECTION_SETTINGS
from autobuild.data.sources import DATA_SOURCES, source_for  # noqa: F401  (the notebooks' name for it)

PROFILES = ("quick", "full")




DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class SectionSettings:
    """The settings of one section under one profile; values read as attributes."""

    section: str
    profile: str
    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "values")
        if name in values:
            return values[name]
        raise AttributeError(f"section {self.section!r} has no setting {name!r}; it has {sorted(values)}")

    def to_frame(self):
        """The settings as a two-column table, for showing in a notebook."""
        import pandas as pd

        return pd.DataFrame({"setting": list(self.values),
                             "value": [_show(v) for v in self.values.values()]}).set_index("setting")


@dataclass(frozen=True)
class NotebookParams:
    """Validated parameters: ``device`` is resolved ("cpu"/"cuda"), ``data_source`` is
    "embedded", "paper" or an absolute path; ``started`` is when the section began."""

    profile: str
    data_source: str
    seeds: int
    device: str
    settings: SectionSettings
    started: float = field(default_factory=time.perf_counter)

    def ran_for(self, label: str | None = None) -> str:
        """The closing line of a section (``label``, default its two digits): how long it ran, where,
        under which profile."""
        return (f"section {label or self.settings.section[:2]} ran in {time.perf_counter() - self.started:.0f} s "
                f"on {self.device} ({self.profile} profile)")


def _show(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def check_profile(profile: Any) -> str:
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(map(repr, PROFILES))}; got {profile!r}")
    return profile


def check_data_source(data_source: Any) -> str:
    """"embedded", "paper", or the absolute form of an existing file or folder."""
    if isinstance(data_source, str) and data_source in DATA_SOURCES:
        return data_source
    if isinstance(data_source, (str, os.PathLike)) and str(data_source) and os.path.exists(data_source):
        return os.path.abspath(data_source)
    raise ValueError(f"data_source must be one of {', '.join(map(repr, DATA_SOURCES))} or an existing "
                     f"path; got {data_source!r}, which is neither")


MAX_SEEDS = 1000  #: seeds a notebook may repeat with (time and memory grow with them)


#: Sections that need several seeds: section -> (fewest seeds, why).
MIN_SEEDS = {"02_score_quality": (2, "seed stability compares seeds"),
             "06_measured_truth": (2, "intervals pair seeds")}


def check_seeds(seeds: Any, section: str | None = None) -> int:
    is_int = (isinstance(seeds, int) or _is_numpy_int(seeds)) and not isinstance(seeds, bool)
    if not is_int or not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"seeds must be a positive integer, at most {MAX_SEEDS} (the number of seeds to repeat "
                         f"with); got {seeds!r}")
    fewest, why = MIN_SEEDS.get(section, (1, ""))
    if seeds < fewest:
        raise ValueError(f"seeds must be at least {fewest} here ({why}); got {seeds}")
    return int(seeds)


def _is_numpy_int(value: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return False
    return isinstance(value, np.integer)


def check_device(device: Any) -> str:
    """Validate ``device`` and resolve "auto" to "cuda" when torch sees a GPU, else "cpu"."""
    if not isinstance(device, str) or device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(map(repr, DEVICES))}; got {device!r}")
    from autobuild.predictor.config import resolve_device

    return resolve_device(device)


def check_override(name: str, value: Any, default, *, integer: bool = False, below: float | None = None):
    """A section parameter that overrides one profile setting (e.g. 03's ``predictor_lr``).

    ``None`` keeps ``default``; otherwise ``value`` must be a positive number (an integer when
    ``integer``, smaller than ``below`` when given), returned as ``int`` or ``float``.
    """
    if value is None:
        return default
    number = (isinstance(value, int) or _is_numpy_int(value)) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not number or not value > 0 or (below is not None and not value < below):
        what = "a positive integer" if integer else "a positive number" + (f" below {below:g}" if below else "")
        raise ValueError(f"{name} must be None (the profile's {default!r}) or {what}; got {value!r}")
    return int(value) if integer else float(value)


def check_model(value: Any) -> str:
    """The ``model`` parameter of the sections that train predictors: ``"companion"`` or ``"authors"``."""
    from autobuild.predictor.variants import check_kind

    return check_kind(value)


def train_config(params: "NotebookParams", **fields):
    """The section's :class:`~autobuild.predictor.config.TrainConfig`: the profile's ``epochs`` and
    ``lr`` and the ``device`` parameter, without progress bars; ``fields`` replace any of them (an
    override parameter, the ``model``)."""
    from autobuild.predictor.config import TrainConfig

    settings = params.settings
    return TrainConfig(**{"epochs": settings.epochs, "lr": settings.lr, "device": params.device,
                          "progress": False, **fields})


def pin_kernel_threads(params: "NotebookParams") -> None:
    """On a CPU, run all of the kernel's torch work (searches and evaluators too, not only
    training) on the kernel's share of the CPUs,
    :func:`~autobuild.predictor.config.available_cpus`: every CPU of a kernel alone, ``cpus // jobs``
    of each of the ``jobs`` kernels ``make book`` runs at once (``scripts/run_notebooks.py`` sets
    ``AUTOBUILD_CPU_THREADS``). Training sets its own while it runs
    (:func:`~autobuild.predictor.config.resolve_threads`: one for a predictor alone, the same share
    for several trained at once)."""
    import torch

    from autobuild.predictor.config import available_cpus

    if params.device == "cpu":
        torch.set_num_threads(available_cpus())


def check_readout(value: Any) -> str:
    """The ``readout`` parameter: how a subgraph's score is read (``"pooled"`` or ``"root"``)."""
    from autobuild.predictor.scoring import READOUTS

    if not isinstance(value, str) or value not in READOUTS:
        raise ValueError(f"readout must be one of {', '.join(map(repr, READOUTS))}; got {str(repr(value))[:40]}")
    return value


def section_settings(section: str, profile: str,
                     settings: Mapping[str, Mapping[str, Any]] | None = None) -> SectionSettings:
    """The settings of ``section`` under ``profile`` (from ``settings`` or :data:`SECTION_SETTINGS`)."""
    table = settings if settings is not None else SECTION_SETTINGS.get(section)
    if table is None:
        raise ValueError(f"no settings for section {section!r}; known sections: {sorted(SECTION_SETTINGS)} "
                         f"(or pass settings={{'quick': {{...}}, 'full': {{...}}}})")
    missing = [p for p in PROFILES if p not in table]
    if missing:
        raise ValueError(f"settings of section {section!r} lack profile(s) {missing}; need {list(PROFILES)}")
    return SectionSettings(section, profile, MappingProxyType(dict(table[profile])))


def validate(section: str, profile: Any, data_source: Any, seeds: Any, device: Any,
             settings: Mapping[str, Mapping[str, Any]] | None = None) -> NotebookParams:
    """Check every parameter (cheapest first) and return them resolved with the section's settings.

    Also checks that the figures folder is writable, and silences the import-time notices of
    dependencies that say nothing about a section (torch_geometric's use of ``torch.jit``, tqdm
    without ipywidgets).
    """
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*deprecated")
    warnings.filterwarnings("ignore", message="IProgress not found")
    profile = check_profile(profile)
    data_source = check_data_source(data_source)
    seeds = check_seeds(seeds, section)
    device = check_device(device)
    resolved = NotebookParams(profile, data_source, seeds, device, section_settings(section, profile, settings))
    from autobuild.book.plotting import check_figures_dir

    check_figures_dir()  # an unwritable figures folder fails here, before any training
    return resolved
