# Two commands set everything up on a fresh machine:
#   make demo   -> virtualenv, install, run the Pakistan 2,000 MW scenario, write the report
#   make test   -> virtualenv, install with dev tools (and Debian's PostgreSQL server and
#                  Chromium when missing), ruff, mypy --strict src, pytest
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out/pakistan-2000mw

.PHONY: demo test venv lint typecheck pytest bench clean postgres chromium

$(BIN)/hashnation: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

venv: $(BIN)/hashnation

demo: venv
	$(BIN)/hashnation mining run examples/pakistan-2000mw.toml --out $(OUT)
	@echo "Report: $(OUT)/report.html"

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: venv
	$(BIN)/mypy --strict src

# The ledger tests run on SQLite and on a throwaway PostgreSQL server they start
# themselves; install Debian's server binaries when the machine lacks them.
postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "PostgreSQL server binaries: present"; \
	elif [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "PostgreSQL server binaries missing (apt-get install postgresql); its tests will skip"; \
	fi

# The web pages are tested in Debian's headless Chromium, driven by Playwright
# (never a browser that Playwright downloads).
chromium:
	@if [ -x /usr/bin/chromium ]; then \
		echo "Chromium: present"; \
	elif [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium missing (apt-get install chromium); the browser tests will skip"; \
	fi

pytest: venv postgres chromium
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: venv
	$(BIN)/python bench/bench_scenario_year.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
