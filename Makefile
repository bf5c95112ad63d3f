# swarmops.ha: make setup | run | test | lint | build | teardown | clean
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
LAB_NODES ?= 5
PYTEST_ARGS ?=

.PHONY: setup engine run test unit integration molecule lint build teardown clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

engine:
	bash scripts/ensure-docker.sh

run: setup engine
	mkdir -p "$${MACHINE_STORAGE_PATH:-$$HOME/.docker/machine}"
	$(BIN)/ansible-playbook playbooks/site.yml -e lab_nodes=$(LAB_NODES)

test: setup engine
	$(BIN)/python -m pytest tests/unit tests/integration -n 2 --dist loadgroup $(PYTEST_ARGS)
	$(MAKE) --no-print-directory molecule

unit: setup
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: setup engine
	$(BIN)/python -m pytest tests/integration -n 2 --dist loadgroup $(PYTEST_ARGS)

molecule: setup engine
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test --all

lint: setup
	$(BIN)/ruff check plugins tests bench
	$(BIN)/ansible-lint --profile production playbooks roles molecule
	for m in $$(ls plugins/modules/*.py | xargs -n1 basename | sed 's/\.py$$//'); do \
	  $(BIN)/ansible-doc swarmops.ha.$$m >/dev/null || exit 1; done
	$(BIN)/ansible-doc -t inventory swarmops.ha.docker_machine >/dev/null

build: setup
	mkdir -p build && $(BIN)/ansible-galaxy collection build --force --output-path build

teardown: setup
	$(BIN)/ansible-playbook playbooks/teardown.yml

clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
