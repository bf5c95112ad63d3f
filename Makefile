# swarmops.ha: make setup | run | test | lint | sanity | build | teardown | clean
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
LAB_NODES ?= 5
PYTEST_ARGS ?=
SANITY_ARGS ?=
# The checkout is the collection: ansible.cfg's collections_path and pytest's pythonpath find it through this link.
COLLECTION_LINK := .collections/ansible_collections/swarmops/ha

.PHONY: setup engine run test unit integration molecule lint sanity ansible-test-units docs-lint docs build teardown clean

setup: $(VENV)/.installed $(COLLECTION_LINK)

$(COLLECTION_LINK):
	mkdir -p $(@D) && ln -sfn ../../.. $@

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

# Labs side by side: the Molecule scenarios (log in reports/ci/molecule.log), and pytest's two workers, one on the
# shared integration lab and one on the ordinary servers' lab and the second lab. Fails when either part fails.
# Molecule ends well before pytest, so its controller runs niced: on a busy machine pytest's longer path goes first.
test: setup engine
	@mkdir -p reports/ci
	@echo "molecule test --all runs beside pytest; its log: reports/ci/molecule.log"
	@started=$$(date +%s); { nice -n 10 $(MAKE) --no-print-directory molecule; scenarios=$$?; \
	  echo "molecule took $$(( $$(date +%s) - started )) s"; exit $$scenarios; } >reports/ci/molecule.log 2>&1 & molecule=$$!; \
	$(BIN)/python -m pytest tests/unit tests/integration -n 2 --dist loadgroup $(PYTEST_ARGS); tests=$$?; \
	wait $$molecule; scenarios=$$?; \
	echo "--- molecule (exit $$scenarios), the end of reports/ci/molecule.log:"; tail -n 25 reports/ci/molecule.log; \
	exit $$(( tests || scenarios ))

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
	$(MAKE) --no-print-directory sanity
	$(MAKE) --no-print-directory docs-lint

# antsibull-docs' schema and markup checks of every plugin's and role's documentation, run where the collection is
# importable as swarmops.ha (through the link that setup makes), with this venv's ansible-doc.
docs-lint: setup
	cd $(COLLECTION_LINK) && PATH="$(CURDIR)/$(BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/.collections" \
	  "$(CURDIR)/$(BIN)/antsibull-docs" lint-collection-docs --plugin-docs .

# ansible-test in a copy of the checkout laid out as ansible_collections/swarmops/ha (scripts/ansible-test.sh).
sanity: setup
	BIN="$(CURDIR)/$(BIN)" bash scripts/ansible-test.sh sanity $(SANITY_ARGS)

ansible-test-units: setup
	BIN="$(CURDIR)/$(BIN)" bash scripts/ansible-test.sh units $(SANITY_ARGS)

# The documentation site, built by antsibull-docs and Sphinx into build/docs/build/html (scripts/docs.sh).
docs: setup $(VENV)/.docs-installed
	BIN="$(CURDIR)/$(BIN)" bash scripts/docs.sh

$(VENV)/.docs-installed: $(VENV)/.installed requirements-docs.txt
	$(BIN)/pip install -q -r requirements-docs.txt
	touch $@

build: setup
	mkdir -p build && $(BIN)/ansible-galaxy collection build --force --output-path build

teardown: setup
	$(BIN)/ansible-playbook playbooks/teardown.yml

clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
