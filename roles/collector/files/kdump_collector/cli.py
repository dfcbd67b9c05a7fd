# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line: one parser for every subcommand; a subcommand's module is imported only when it runs, so
receive (every SSH request of every fleet host) never pays for the index, its SQLite or the report."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from kdump_collector import INT64_MAX, PROG, __version__, account, config
from kdump_collector.config import DEFAULT_PATH as DEFAULT_CONFIG
from kdump_collector.crashkinds import KINDS
from kdump_collector.textout import safe


# Leading and trailing blanks are stripped first: `\s*` on both sides of optional parts would backtrack quadratically.
SIZE_RE = re.compile(r'([0-9]{1,19}) *([KMGTP]?)(?:i?B)?\Z', re.I)


def size_arg(value):
    match = SIZE_RE.match(value.strip())
    size = int(match.group(1)) * 1024 ** ' KMGTP'.index(match.group(2).upper() or ' ') if match else -1
    if not 0 <= size <= INT64_MAX:
        raise argparse.ArgumentTypeError('not a size: %r (bytes, or with K/M/G/T/P suffix, at most 8E)' % value)
    return size


def count_arg(value):
    """A positive integer as SQLite stores it: dump ids, counts."""
    number = int(value) if re.match(r'[0-9]{1,19}\Z', value) else 0
    if not 1 <= number <= INT64_MAX:
        raise argparse.ArgumentTypeError('not a number from 1 to %d: %r' % (INT64_MAX, value))
    return number


RECEIVE_EPILOG = """\
authorized_keys line of a fleet host's kdump key (ROOT and the limits from the configuration file):
  restrict,command="kdump-collector receive --host web1 --tag web1",from="192.0.2.10" ssh-ed25519 AAAA...

Allowed requests (P = the client's KDUMP_COREDIR, ignored; files land in ROOT/HOST/<tag>-<stamp>/):
  mkdir -p P/<tag>-<stamp>
  SFTP (scp of OpenSSH >= 9) or scp -t: create and write P/<tag>-<stamp>/dmesg.<stamp> or .../vmcore-incomplete
  dd of=P/<tag>-<stamp>/dump-incomplete[.bz2|.gz|.lz4|.xz]      (stdin streamed by dd bs=1M)
  mv P/<tag>-<stamp>/dump-incomplete[.ext] P/<tag>-<stamp>/dump.<stamp>[.ext]
  mv P/<tag>-<stamp>/vmcore-incomplete P/<tag>-<stamp>/vmcore.<stamp>
Everything else is refused (exit 1, one line on stderr). Every request is logged to ROOT/.log/receive.log.
"""
CONFIG_HELP = 'configuration file (default: %s; explicit options override it)' % DEFAULT_CONFIG


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (its subcommand parsers are of the same class)."""

    def error(self, message):
        self.exit(2, '%s: error: %s (see %s --help)\n' % (self.prog, safe(message), self.prog))


def build_parser():
    parser = Parser(prog=PROG, description='Receive, index and report kdump-tools crash dumps.')
    parser.add_argument('--version', action='version', version='%(prog)s ' + __version__)
    parser.add_argument('--config', help=CONFIG_HELP)
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True

    def add(name, func, text, epilog=None, account=True):
        """A subcommand; with account, it runs as the configured dump account when started as root."""
        cmd = sub.add_parser(name, help=text, description=text, epilog=epilog,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.set_defaults(func=func, settings={}, as_account=account)
        if account:
            cmd.add_argument('--config', default=argparse.SUPPRESS, help=CONFIG_HELP)
        return cmd

    def setting(cmd, flag, key, text, required=False, **kwargs):
        """An option whose default is the configuration file's key; required: one of them must give it."""
        action = cmd.add_argument(flag, help='%s (default: %s of the configuration file)' % (text, key), **kwargs)
        cmd.get_default('settings')[action.dest] = (key, required)

    def db_arg(cmd):
        setting(cmd, '--db', 'db', 'SQLite index file', required=True)

    def index_args(cmd, required=True):
        setting(cmd, '--root', 'root', 'collector root: ROOT/<host>/<tag>-<stamp>/ and ROOT/<tag>-<stamp>/', required)
        setting(cmd, '--tag-map', 'tag_map', 'JSON object tag -> host for dumps not under a host directory (NFS)')
        setting(cmd, '--nfs-dir', 'nfs_dirs', 'extra NFS export directory holding <tag>-<stamp>/ (repeatable)', action='append')
        setting(cmd, '--known-issues', 'known_issues', 'JSON list of known issues ({title or pattern, url, note}) kept in the index')

    rcv = add('receive', 'receive:cmd_receive', 'SSH forced command: carry out one request of kdump-tools (from SSH_ORIGINAL_COMMAND) '
              'inside ROOT/HOST/', RECEIVE_EPILOG)
    setting(rcv, '--root', 'root', 'collector root directory', required=True)
    rcv.add_argument('--host', required=True, help='fleet host this SSH key belongs to')
    rcv.add_argument('--tag', action='append', help='HOSTTAG value the host may use (repeatable; default: --host)')
    setting(rcv, '--min-free', 'receive.min_free_bytes', 'refuse uploads when ROOT has less free space than this', type=size_arg)
    setting(rcv, '--max-host-bytes', 'receive.max_host_bytes', 'cap on the bytes kept under ROOT/HOST', type=size_arg)

    idx = add('index', 'index:cmd_index', 'scan ROOT and update the SQLite index (incremental, idempotent)')
    index_args(idx)
    db_arg(idx)

    lst = add('list', 'query:cmd_list', 'list indexed dumps')
    db_arg(lst)
    lst.add_argument('--host', help='only this host')
    lst.add_argument('--since', help='only dumps at or after this ISO 8601 time (UTC when no zone)')
    lst.add_argument('--signature', help='only this crash signature')
    lst.add_argument('--new-since', help='only crashes whose signature was first seen at or after this ISO 8601 time')
    lst.add_argument('--new-on-kernel', help='only crashes whose signature was first seen on this kernel release')
    lst.add_argument('--json', action='store_true', help='JSON array output')

    shw = add('show', 'query:cmd_show', 'show one indexed dump')
    db_arg(shw)
    shw.add_argument('id', type=count_arg, help='dump id (from list)')
    shw.add_argument('--json', action='store_true', help='JSON output')

    sts = add('stats', 'query:cmd_stats', 'counts by crash signature (title), host and kernel with first/last seen')
    db_arg(sts)
    sts.add_argument('--json', action='store_true', help='JSON output')

    cst = add('crash-status', 'status:cmd_crash_status', 'whether a complete dump of each host arrived (of the expected crash), '
              'with a one-line why; JSON')
    db_arg(cst)
    cst.add_argument('--host', action='append', required=True, help='host to answer for (repeatable)')
    cst.add_argument('--since', help='only dumps at or after this ISO 8601 time (UTC when no zone)')
    cst.add_argument('--expect', help='crash-test kind the dump must show (%s)' % ', '.join(sorted(KINDS)))
    cst.add_argument('--last', type=count_arg, help='only the newest N dumps of each host (the verdict is on those)')
    cst.add_argument('--index', action='store_true', help='run an index pass first')
    index_args(cst, required=False)
    cst.add_argument('--json', action='store_true', help='JSON output (the only output; accepted for symmetry)')

    lcs = add('local-status', 'status:cmd_local_status', "crash-status of the dumps kdump-tools saved on this host "
              '(COREDIR/<YYYYMMDDHHMM>/), checked as the index checks them; reads no index and no configuration', account=False)
    lcs.add_argument('--coredir', default='/var/crash', help="kdump-tools' KDUMP_COREDIR (default: /var/crash)")
    lcs.add_argument('--host', default=os.uname().nodename, help='name to answer under (default: this host name)')
    lcs.add_argument('--since', help='only dumps at or after this ISO 8601 time (UTC when no zone)')
    lcs.add_argument('--expect', help='crash-test kind the dump must show (%s)' % ', '.join(sorted(KINDS)))
    lcs.add_argument('--json', action='store_true', help='JSON output (the only output; accepted for symmetry)')

    rep = add('report', 'report:cmd_report', 'write a static HTML crash report')
    db_arg(rep)
    setting(rep, '--html', 'report_html', 'output file (written atomically)', required=True)
    rep.add_argument('--new-since', help='mark titles first seen at or after this ISO 8601 time (default: the last 24 hours)')

    met = add('metrics', 'metrics:cmd_metrics', 'write a Prometheus node_exporter textfile')
    db_arg(met)
    setting(met, '--textfile', 'metrics_textfile', 'output .prom file (written atomically)', required=True)

    prn = add('prune', 'prune:cmd_prune', 'delete old complete or cut-short dumps (dmesg and index rows are kept, state becomes pruned)')
    db_arg(prn)
    setting(prn, '--root', 'root', 'collector root; nothing outside it is touched', required=True)
    setting(prn, '--keep-per-signature', 'prune.keep_per_signature',
            'keep the newest N dumps of each signature of each host (and its newest complete one)', type=count_arg)
    setting(prn, '--max-total-bytes', 'prune.max_total_bytes', 'prune oldest until the prunable dumps total at most this', type=size_arg)
    setting(prn, '--min-free-bytes', 'prune.min_free_bytes', 'prune oldest until ROOT has this much free space', type=size_arg)
    prn.add_argument('--dry-run', action='store_true', help='print what would be pruned, change nothing')

    rec = add('record', 'crashtests:cmd_record', 'record the outcome of a crash test')
    db_arg(rec)
    rec.add_argument('--host', required=True, help='host that was crashed')
    rec.add_argument('--outcome', required=True, choices=('ok', 'failed'), help='crash test result')
    rec.add_argument('--kernel', help='kernel release of the host')
    rec.add_argument('--config-hash', help='hash of the kdump configuration tested')
    rec.add_argument('--dump-id', type=count_arg, help='id of the dump the test produced')
    rec.add_argument('--detail', help='free text')
    rec.add_argument('--json', action='store_true', help='print the recorded row as JSON (default: its id)')

    lts = add('list-tests', 'crashtests:cmd_list_tests', 'list recorded crash tests')
    db_arg(lts)
    lts.add_argument('--json', action='store_true', help='JSON output')
    return parser


def apply_settings(args):
    """Fill the options not given from the configuration file, then become the dump account if this is root.
    Returns an error message, or None."""
    if not args.settings and not args.as_account:
        return None
    try:
        settings = config.load(args.config)
    except config.ConfigError as exc:
        return 'configuration: %s' % safe(exc)
    where = args.config or config.DEFAULT_PATH
    for dest, (key, required) in args.settings.items():
        if getattr(args, dest) is None:
            setattr(args, dest, settings.get(key))
        if required and getattr(args, dest) is None:
            return '%s: --%s not given, and no %s in %s' % (args.command, dest.replace('_', '-'), key, safe(where))
    if args.as_account:
        account.become(settings.get('account'))
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # Non-UTF-8 bytes in arguments come as lone surrogates, which neither SQLite nor the terminal takes.
    for arg in argv:
        try:
            arg.encode('utf-8')
        except UnicodeEncodeError:
            sys.stderr.write('%s: error: argument %s is not valid UTF-8\n' % (PROG, safe(arg)))
            return 2
    for stream in (sys.stdout, sys.stderr):
        # Whatever the locale's encoding, text it cannot write is escaped instead of failing.
        if hasattr(stream, 'reconfigure'):
            stream.reconfigure(errors='backslashreplace')
    args = build_parser().parse_args(argv)
    error = apply_settings(args)
    if error:
        sys.stderr.write('%s: %s\n' % (PROG, error))
        return 2
    module, name = args.func.split(':')
    func = getattr(importlib.import_module('kdump_collector.' + module), name)
    try:
        return func(args)
    except BrokenPipeError:
        return 0
    except SystemExit as exc:
        if not isinstance(exc.code, str):
            raise
        sys.stderr.write(safe(exc.code) + '\n')
        return 1
    except OSError as exc:
        # A path given on the command line that is missing, not a directory, not writable...
        sys.stderr.write('%s: %s\n' % (PROG, safe(exc)))
        return 1
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # sqlite3 is loaded only by the subcommands that use the index.
        sqlite3 = sys.modules.get('sqlite3')
        if sqlite3 is None or not isinstance(exc, sqlite3.Error):
            raise
        sys.stderr.write('%s: database error: %s\n' % (PROG, safe(exc)))
        return 2
