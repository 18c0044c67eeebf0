"""nbval's kernels (``pytest --nbval notebooks``) run with the environment the stored notebooks were
executed with (``scripts/run_notebooks.py``'s ``QUIET_PROGRESS``: no progress bars), so that fresh
outputs compare equal to the stored ones."""
import importlib.util
import os
from pathlib import Path

_spec = importlib.util.spec_from_file_location("run_notebooks", Path(__file__).resolve().parents[1] / "scripts"
                                               / "run_notebooks.py")
_run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_run_notebooks)

# kernels inherit the environment of the pytest process
os.environ.update(_run_notebooks.QUIET_PROGRESS)
