# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fleet.kdump.local_dump_query: ship the collector program to the host for one call, so a local dump is checked by
the same code that checks the collector's dumps (docs in the module)."""

from __future__ import annotations

import io
import os
import zipfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

# The collector program of this collection: roles/collector/files/kdump_collector beside plugins/.
PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       'roles', 'collector', 'files', 'kdump_collector')
ARCHIVE = 'kdump_collector.pyz'
# Fixed member times: the same program gives the same archive.
EPOCH = (1980, 1, 1, 0, 0, 0)


def package_archive(package=PACKAGE):
    """The package as an archive Python runs (`python3 -I ARCHIVE SUBCOMMAND`): its modules under kdump_collector/ and
    its own __main__.py at the top, which then keeps the archive on sys.path."""
    try:
        names = sorted(n for n in os.listdir(package) if n.endswith('.py'))
    except OSError as exc:
        raise AnsibleActionFail('the collector program of fleet.kdump is missing (%s): reinstall the collection' % exc) from None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        for member, name in [('__main__.py', '__main__.py')] + [('kdump_collector/' + n, n) for n in names]:
            with open(os.path.join(package, name), 'rb') as handle:
                info = zipfile.ZipInfo(member, EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, handle.read())
    return buffer.getvalue()


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = dict(self._task.args)
        tmpdir = self._connection._shell.tmpdir  # pylint: disable=protected-access
        try:
            if not args.get('package'):
                remote = self._connection._shell.join_path(tmpdir, ARCHIVE)  # pylint: disable=protected-access
                self._transfer_data(remote, package_archive())
                self._fixup_perms2((tmpdir, remote))
                args['package'] = remote
            args.setdefault('host', task_vars.get('inventory_hostname'))
            result.update(self._execute_module(module_name='fleet.kdump.local_dump_query', module_args=args, task_vars=task_vars))
            return result
        finally:
            self._remove_tmp_path(tmpdir)
