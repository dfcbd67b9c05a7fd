# fleet.kdump: the commands a person (and CI) runs. See README.md.
.PHONY: setup test unit lint docs build demo e2e lab-down bench clean

setup:
	scripts/setup.sh

test:
	scripts/test.sh

unit:
	.venv/bin/pytest -q

lint:
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.venv/collections .venv/bin/ansible-lint

# docs/role-variables.md from the roles' argument specs, and the module/filter/role reference (RST) in build/docs.
docs:
	.venv/bin/python scripts/gen-role-docs.py
	rm -rf build/docs && mkdir -p build/docs
	PATH=$(CURDIR)/.venv/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.venv/collections .venv/bin/antsibull-docs collection \
	    --use-current --squash-hierarchy --fail-on-error --dest-dir build/docs fleet.kdump

build:
	rm -rf build && .venv/bin/ansible-galaxy collection build --output-path build/ --force

demo:
	demo/run

e2e:
	tests/e2e/run

lab-down:
	lab/fleetlab down

bench:
	.venv/bin/python bench/collector_bench.py

clean:
	rm -rf build tests/output
