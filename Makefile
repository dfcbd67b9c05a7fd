# fleet.kdump: the commands a person (and CI) runs. See README.md.
.PHONY: setup test unit lint lint-python docs build demo e2e molecule-config-only lab-down bench bench-sizing bench-triage clean

setup:
	scripts/setup.sh

test:
	scripts/test.sh

unit:
	.venv/bin/pytest -q

lint:
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.venv/collections .venv/bin/ansible-lint

# ruff over every Python file of the repository (ruff.toml).
lint-python:
	.venv/bin/ruff check --no-cache .

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

# The quick molecule scenario: configure a collector and one guest, re-run, verify; no crash.
molecule-config-only:
	PATH=$(CURDIR)/.venv/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.venv/collections .venv/bin/molecule test -s config_only

lab-down:
	lab/fleetlab down

# Collector ratios, crash triage on the labelled corpus (`make bench-triage`), then the lab's (P1 re-run cost,
# P4 crash downtime; about 20 min under TCG), then the crashkernel sizing table recorded by `make bench-sizing`.
# Every part runs and prints its figures; the exit status is non-zero when one missed a goal or failed.
bench:
	status=0; \
	.venv/bin/python bench/collector_bench.py || status=1; \
	.venv/bin/python bench/triage_bench.py || status=1; \
	.venv/bin/python bench/lab_bench.py || status=1; \
	PYTHONPATH=$(CURDIR)/.venv/collections .venv/bin/python bench/crashkernel_sizing.py --print || status=1; \
	exit $$status

# Crash triage against syzkaller's labelled reports (../shared/corpus/syzkaller-linux-reports beside the
# repository; skipped when absent): titles, guilty frames, corruption, dedup, time per MB, each against its goal.
bench-triage:
	.venv/bin/python bench/triage_bench.py

# Re-measure the crashkernel sizing by real crashes (1, 2 and 4 GiB guests; about an hour under TCG).
bench-sizing:
	PYTHONPATH=$(CURDIR)/.venv/collections .venv/bin/python bench/crashkernel_sizing.py

clean:
	rm -rf build tests/output
