"""nbval's kernels (``pytest --nbval notebooks``) run with the environment the stored notebooks were
executed with (``scripts/run_notebooks.py``'s ``QUIET_PROGRESS``: no progress bars; and each
kernel's share of the CPUs as ``make book``'s two kernels get it, since predictors trained at once
use every thread they are given and float sums depend on how work is split), so that fresh outputs
compare equal to the stored ones."""
import importlib.util
import os
from pathlib import Path

_spec = importlib.util.spec_from_file_location("run_notebooks", Path(__file__).resolve().parents[1] / "scripts"
                                               / "run_notebooks.py")
_run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_run_notebooks)

# kernels inherit the environment of the pytest process
os.environ.update(_run_notebooks.kernel_env(_run_notebooks.QUIET_PROGRESS, jobs=2))
