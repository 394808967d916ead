# Two commands matter: `make demo` runs the example app, `make test` runs the suite.
# Both set up .venv first, so they work on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint format install clean translations docs bench soak constraints

# Installs the exact versions of constraints.txt, the ones CI is tested with.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/flask --app example_app --debug demo --host localhost --port 5000

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict flask_kapu
	$(BIN)/lint-imports

# The documentation site (Sphinx), warnings as errors.
docs: $(STAMP)
	$(PIP) -e '.[docs]'
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# Side-by-side benchmarks against Flask-Login and Flask-Security-Too; writes bench/RESULTS.md.
bench: $(STAMP)
	$(PIP) -e '.[bench]'
	$(BIN)/python -m bench

# The long load run of the multi-instance system tests (CI runs a short one in `make test`).
soak: $(STAMP)
	KAPU_SOAK=1 $(BIN)/pytest -p no:cacheprovider tests/system -k load -s

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# On purpose only: the newest versions pyproject.toml allows, in a fresh venv, frozen into
# constraints.txt (then run `make clean test lint docs` and commit what passes).
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/pip install --quiet --disable-pip-version-check -e '.[dev,docs,bench]'
	{ sed -n '1,/^[^#]/{/^#/p}' constraints.txt; \
	  .venv-constraints/bin/pip freeze --disable-pip-version-check --exclude-editable; } \
		> constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints

clean:
	rm -rf $(VENV) .venv-constraints .pytest_cache .mypy_cache .ruff_cache instance example_app/instance

# After changing any user-facing text: refresh the catalogues, translate, then compile.
# flask_kapu's domain "flask_kapu" first, then the example app's own domain "portal".
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project flask_kapu --copyright-holder "flask_kapu developers" \
		-o flask_kapu/translations/flask_kapu.pot .
	$(BIN)/pybabel update -i flask_kapu/translations/flask_kapu.pot -d flask_kapu/translations \
		-D flask_kapu --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d flask_kapu/translations -D flask_kapu
	$(BIN)/pybabel extract -F example_app/babel.cfg -k _l -k lazy_gettext -k _p --no-location \
		--sort-output --project "Mintaváros e-services" --copyright-holder "flask_kapu developers" \
		-o example_app/translations/portal.pot example_app
	$(BIN)/pybabel update -i example_app/translations/portal.pot -d example_app/translations \
		-D portal --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d example_app/translations -D portal
