#!/usr/bin/env bash
# make release: the tarball a user installs, and galaxy-importer's verdict on it (a gate of `make test`).
# Builds from the files git knows (tracked and new, not ignored), so no cache or scratch file of this checkout can ship;
# galaxy.yml's build_ignore keeps the development setup out. Prints the tarball's files and size, then runs the pinned
# galaxy-importer (tests/galaxy-importer.cfg: ansible-doc, flake8, ansible-lint; no ansible-test) and fails on any
# error or warning it reports: docs/release.md explains the import and why none is expected.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/.venv/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version=$("$venv/python" -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
tarball=$root/build/fleet-kdump-$version.tar.gz
mkdir -p "$tmp/src" "$root/build"
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done \
    | xargs -0 cp --parents -t "$tmp/src"
"$venv/ansible-galaxy" collection build "$tmp/src" --output-path "$root/build" --force >/dev/null

echo "release: $(basename "$tarball")"
tar tzf "$tarball" | grep -v '/$' | sort | sed 's/^/  /'
echo "release: $(tar tzf "$tarball" | grep -vc '/$') files, $(stat -c %s "$tarball") bytes"
# What a collection user gets, and nothing else: a new top-level directory must be collection content or go into
# galaxy.yml's build_ignore.
shipped='^(CHANGELOG\.md|COPYING|FILES\.json|MANIFEST\.json|README\.md|(changelogs|docs|examples|meta|playbooks|plugins|roles)/.*)$'
if stray=$(tar tzf "$tarball" | grep -Ev "$shipped"); then
    while read -r f; do printf '  not collection content: %s\n' "$f"; done <<<"$stray"
    echo "release: the tarball holds files outside the collection's content; add them to build_ignore in galaxy.yml"
    exit 1
fi

# From an empty directory with a clean environment: no ansible.cfg or collections path of this checkout may leak in.
log=$root/build/galaxy-importer.log
echo "release: galaxy-importer $("$venv/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))')"
(cd "$tmp" && env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_CONFIG PATH="$venv:$PATH" \
    GALAXY_IMPORTER_CONFIG="$root/tests/galaxy-importer.cfg" "$venv/python" -m galaxy_importer.main "$tarball") \
    > "$log" 2>&1 || { cat "$log"; echo "release: galaxy-importer failed"; exit 1; }
problems=$(grep -E "^(WARNING|ERROR|CRITICAL)" "$log" || true)
if [[ -n $problems ]]; then
    printf '%s\n' "$problems"
    echo "release: galaxy-importer reported $(wc -l <<<"$problems") problem(s); see docs/release.md"
    exit 1
fi
tail -n 1 "$log"
echo "release: galaxy-importer found no error and no warning (its log: build/galaxy-importer.log)"
