# fleet.kdump: the commands a person (and CI) runs. See README.md.
.PHONY: setup test unit sanity lint docs build demo e2e lab-down bench clean

setup:
	scripts/setup.sh

test:
	scripts/test.sh

unit:
	.venv/bin/pytest -q

lint:
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.venv/collections .venv/bin/ansible-lint

build:
	rm -rf build && .venv/bin/ansible-galaxy collection build --output-path build/ --force

clean:
	rm -rf build tests/output
