# The two commands of the README:  `make book`  and  `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test book rerun section clean

install: $(STAMP)
$(STAMP): pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $(STAMP)

# Every test: the linter (ruff, configured in pyproject.toml), the package's unit tests, then every
# notebook under the quick profile (nbval).
test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval notebooks --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider

# Re-execute in place (quick profile, embedded data, CPU, papermill) every stored notebook whose inputs
# changed since its stored run (none on a fresh clone), then render them into _build/html (the build
# itself executes nothing and needs no network). `make rerun` executes every notebook first.
book: install
	$(PY) scripts/run_notebooks.py --profile quick --jobs 2 --stale-only
	$(VENV)/bin/jupyter-book build .

rerun: install
	$(PY) scripts/run_notebooks.py --profile quick --jobs 2
	$(VENV)/bin/jupyter-book build .

# One section with other parameters, written to _build/sections/ (figures in _build/sections/figures/), e.g.
#   make section NB=02_magnitude_ranked_embeddings ARGS="--profile full --device cuda"
#   make section NB=03 ARGS="--profile full -p predictor_lr 0.001"
section: install
	$(PY) scripts/run_notebooks.py --only $(NB) --output-dir _build/sections $(ARGS)

clean:
	rm -rf _build
