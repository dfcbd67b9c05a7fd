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

docs:
	.venv/bin/python scripts/gen-role-docs.py

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
