#!/usr/bin/env bash
# One-command setup of a fresh machine: host packages for the VM lab, the pinned Python 3.12 toolchain
# in .venv, the collection linked into a collections path, and ansible-test's offline pip bootstrap.
# Idempotent: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST_PACKAGES=(qemu-system-x86 qemu-utils debootstrap netcat-openbsd fdisk e2fsprogs dpkg-dev file
               openssh-client shellcheck chromium)
missing=()
for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing host packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON312:-}
if [[ -z $PY ]]; then
    if PYENV_VERSION=3.12.1 python3.12 -V >/dev/null 2>&1; then PY="env PYENV_VERSION=3.12.1 python3.12"
    else PY=python3.12; fi
fi
if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
    rm -rf .venv
    $PY -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    echo "setup: installing the pinned toolchain into .venv"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -r requirements-dev.txt
    echo "$want" > "$stamp"
fi

# ansible finds the checkout through ansible.cfg's collections_path.
mkdir -p .venv/collections/ansible_collections/fleet
ln -sfn ../../../.. .venv/collections/ansible_collections/fleet/kdump

# ansible-test --venv fetches get-pip-<version>.py from the internet; give it the local stand-in.
pip_version=$(.venv/bin/python - <<'PY'
import re, ansible_test, pathlib
src = pathlib.Path(ansible_test.__file__).parent / '_internal' / 'python_requirements.py'
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)
mkdir -p ~/.ansible/test/cache
install -m 0644 scripts/ansible-test/get_pip_offline.py ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"

echo "setup: done ($(.venv/bin/ansible --version | sed -n 1p))"
