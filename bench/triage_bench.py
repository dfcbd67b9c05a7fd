#!/usr/bin/env python
# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash triage measured on labelled kernel console logs (syzkaller's reports, see ../shared/corpus/NOTICE.md).

Each corpus file: `KEY: value` header lines (TITLE, ALT, TYPE, CORRUPTED, FRAME, ...), a blank line, the
console log, and in some files a `REPORT:` line followed by the report syzkaller extracted (test data, not
console output: cut off here). No TITLE: no crash in the log.

Figures, each with its goal: exact title on labelled logs not marked CORRUPTED (ALT titles count as
correct); guilty frame equal to the function after the title's last ` in `; no title for logs without a
crash; corrupted recall and false positives; pairwise precision and recall of signature groups against
TITLE groups (logs not marked CORRUPTED); analysis time per MB. The exit status is non-zero when a goal
on the whole set is missed.

Against overfitting the files are also split at random, by title as the held-out half was, into a
tuning half and a check half; both are reported (the check half against the held-out goals).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'roles', 'collector', 'files'))

from kdump_collector.triage import analyse  # noqa: E402  (path set up above)

CORPUS = os.path.join('..', 'shared', 'corpus', 'syzkaller-linux-reports')
GOALS = {'title': 0.90, 'frame': 0.95, 'no-crash': 0.95, 'corrupted recall': 0.70, 'dedup precision': 0.99,
         'dedup recall': 0.95}
HELD_OUT_GOALS = {'title': 0.80, 'frame': 0.90, 'no-crash': 0.95, 'corrupted recall': 0.70, 'dedup precision': 0.98,
                  'dedup recall': 0.90}
CORRUPTED_FP_GOAL = 0.05
SECONDS_PER_MB_GOAL = 1.0
SPLIT_SEED = 13


class Case:
    def __init__(self, name, data):
        self.name = name
        head, _sep, body = data.partition(b'\n\n')
        self.headers = collections.defaultdict(list)
        for line in head.decode('utf-8', 'replace').splitlines():
            key, _sep, value = line.partition(': ')
            self.headers[key].append(value.strip())
        cut = body.find(b'\nREPORT:\n')
        self.log = (body[:cut] if cut >= 0 else body).decode('utf-8', 'replace')
        self.title = (self.headers.get('TITLE') or [None])[0] or None
        self.titles = set(self.headers.get('TITLE', []) + self.headers.get('ALT', []))
        self.corrupted = (self.headers.get('CORRUPTED') or ['N'])[0] == 'Y'
        self.type = (self.headers.get('TYPE') or ['-'])[0]
        self.result = None
        self.seconds = 0.0


def find_corpus():
    """../shared/corpus/... beside the repository; from a git worktree, beside its main checkout."""
    repo = os.path.normpath(os.path.join(HERE, '..'))
    roots = [repo]
    try:
        common = subprocess.run(['git', '-C', repo, 'rev-parse', '--path-format=absolute', '--git-common-dir'],
                                capture_output=True, text=True, check=True).stdout.strip()
        roots.append(os.path.dirname(common))
    except (OSError, subprocess.CalledProcessError):
        pass
    for root in roots:
        path = os.path.normpath(os.path.join(root, CORPUS))
        if os.path.isdir(path):
            return path
    return os.path.normpath(os.path.join(repo, CORPUS))


def load(corpus):
    cases = []
    for name in sorted(os.listdir(corpus)):
        path = os.path.join(corpus, name)
        if os.path.isfile(path):
            with open(path, 'rb') as handle:
                cases.append(Case(name, handle.read()))
    return cases


def split(cases):
    """(tune, check): groups of one title go to the same half, like the held-out half was made."""
    groups = collections.defaultdict(list)
    for case in cases:
        groups[case.title or 'no-crash:' + case.name].append(case)
    keys = sorted(groups)
    random.Random(SPLIT_SEED).shuffle(keys)
    tune, check = [], []
    for key in keys:
        (tune if len(tune) <= len(check) else check).extend(groups[key])
    return tune, check


def run(cases):
    for case in cases:
        start = time.perf_counter()
        case.result = analyse(case.log)
        case.seconds = time.perf_counter() - start


def ratio(good, total):
    return good / total if total else 1.0


def pairwise(cases):
    """Precision and recall of 'same signature' against 'same TITLE' over all pairs."""
    by_sig = collections.Counter(c.result['signature'] for c in cases if c.result['signature'])
    by_title = collections.Counter(c.title for c in cases)
    both = collections.Counter((c.title, c.result['signature']) for c in cases if c.result['signature'])

    def pairs(counter):
        return sum(n * (n - 1) // 2 for n in counter.values())
    same, predicted, actual = pairs(both), pairs(by_sig), pairs(by_title)
    return ratio(same, predicted), ratio(same, actual)


def figures(cases):
    labelled = [c for c in cases if c.title and not c.corrupted]
    located = [c for c in labelled if ' in ' in c.title]
    crashless = [c for c in cases if not c.title]
    corrupted = [c for c in cases if c.title and c.corrupted]
    precision, recall = pairwise(labelled)
    megabytes = sum(len(c.log.encode('utf-8')) for c in cases) / 1e6
    return {
        'title': (ratio(sum(c.result['title'] in c.titles for c in labelled), len(labelled)), len(labelled)),
        'frame': (ratio(sum(c.result['guilty_frame'] == c.title.rsplit(' in ', 1)[1] for c in located), len(located)),
                  len(located)),
        'no-crash': (ratio(sum(c.result['title'] is None for c in crashless), len(crashless)), len(crashless)),
        'corrupted recall': (ratio(sum(c.result['corrupted'] for c in corrupted), len(corrupted)), len(corrupted)),
        'corrupted false positives': (ratio(sum(c.result['corrupted'] for c in labelled), len(labelled)), len(labelled)),
        'dedup precision': (precision, len(labelled)),
        'dedup recall': (recall, len(labelled)),
        'seconds per MB': (sum(c.seconds for c in cases) / max(megabytes, 1e-9), round(megabytes, 2)),
    }


def report(name, cases, goals):
    print('%s: %d logs' % (name, len(cases)))
    ok = True
    for key, (value, count) in figures(cases).items():
        if key == 'corrupted false positives':
            goal, met = '<= %.2f' % CORRUPTED_FP_GOAL, value <= CORRUPTED_FP_GOAL
        elif key == 'seconds per MB':
            goal, met = '<= %.1f' % SECONDS_PER_MB_GOAL, value <= SECONDS_PER_MB_GOAL
            print('  %-26s %8.4f  (%s MB; goal %s) %s' % (key, value, count, goal, 'OK' if met else 'MISSED'))
            ok &= met
            continue
        else:
            goal, met = '>= %.2f' % goals[key], value >= goals[key]
        print('  %-26s %8.3f  (of %d; goal %s) %s' % (key, value, count, goal, 'OK' if met else 'MISSED'))
        ok &= met
    return ok


def failures(cases):
    for case in cases:
        got = case.result
        if case.title is None:
            if got['title'] is not None:
                print('%s: no crash, got %r' % (case.name, got['title']))
            continue
        if case.corrupted and not got['corrupted']:
            print('%s: corrupted not seen (%r)' % (case.name, got['title']))
        if not case.corrupted:
            if got['corrupted']:
                print('%s: false corrupted (%r)' % (case.name, got['title']))
            if got['title'] not in case.titles:
                print('%s: want %r got %r' % (case.name, case.title, got['title']))


def by_type(cases):
    counts = collections.defaultdict(lambda: [0, 0])
    for case in cases:
        if case.title and not case.corrupted:
            counts[case.type][1] += 1
            counts[case.type][0] += case.result['title'] in case.titles
    for kind, (good, total) in sorted(counts.items()):
        print('  %-40s %3d / %3d' % (kind, good, total))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--corpus', help='corpus directory (default: %s beside the repository)' % CORPUS)
    parser.add_argument('--failures', choices=('tune', 'check', 'all'), help='list the misses of one half')
    parser.add_argument('--by-type', action='store_true', help='title accuracy per report TYPE')
    args = parser.parse_args()
    corpus = args.corpus or find_corpus()
    if not os.path.isdir(corpus):
        print('triage bench: no corpus at %s, skipped' % corpus)
        return 0
    cases = load(corpus)
    run(cases)
    tune, check = split(cases)
    report('tuning half', tune, GOALS)
    report('check half (held-out goals)', check, HELD_OUT_GOALS)
    ok = report('all files', cases, GOALS)
    if args.by_type:
        by_type(cases)
    if args.failures:
        failures({'tune': tune, 'check': check, 'all': cases}[args.failures])
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
