# The two commands of the README:  `make book`  and  `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test book section clean

install: $(STAMP)
$(STAMP): pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $(STAMP)

# Every test: the package's unit tests, then every notebook under the quick profile (nbval).
test: install
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval notebooks --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider

# Execute every notebook (quick profile, embedded data) with papermill, then build the HTML book.
book: install
	$(PY) scripts/run_notebooks.py --profile quick
	$(VENV)/bin/jupyter-book build .

# One section with other parameters, e.g.  make section NB=02_magnitude_ranked_embeddings ARGS="-p profile full -p device cuda"
section: install
	$(VENV)/bin/papermill notebooks/$(NB).ipynb _build/executed/$(NB).ipynb $(ARGS)

clean:
	rm -rf _build
