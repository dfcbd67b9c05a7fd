# Copyright (c) 2026, fleet.kdump contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Everything fleet.kdump knows about a host's kdump state, read from /proc, /sys, /etc, /boot and /var.

Every path is resolved under a `root` so that the same code reads a live host, an offline image or a
test fixture tree. Shell-syntax files (/etc/default/kdump-tools, /etc/default/grub) are parsed as data:
plain assignments with $NAME expansion, nothing is ever sourced or executed.
"""

from __future__ import annotations

import fnmatch
import re

from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel import effective_specs, normalize_spec
from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel_rules import kernel_rules, predict, suffixes_of
from ansible_collections.fleet.kdump.plugins.module_utils._crashkernel_sizing import recommend
from ansible_collections.fleet.kdump.plugins.module_utils._grub_menu import next_entry, release_of
from ansible_collections.fleet.kdump.plugins.module_utils._host_files import HostFiles, host_files
from ansible_collections.fleet.kdump.plugins.module_utils._kdump_keys import SECRET_KEYS
from ansible_collections.fleet.kdump.plugins.module_utils._sizes import format_bytes
from ansible_collections.fleet.kdump.plugins.module_utils._shell_assign import parse_shell_assignments

KDUMP_DEFAULTS = '/etc/default/kdump-tools'
GRUB_DEFAULTS = '/etc/default/grub'
GRUB_DEFAULTS_DIR = '/etc/default/grub.d'
GRUB_CFG = '/boot/grub/grub.cfg'
GRUBENV = '/boot/grub/grubenv'
KDUMP_CONFIG = '/usr/sbin/kdump-config'
MAKEDUMPFILE = '/usr/bin/makedumpfile'
DPKG_STATUS = '/var/lib/dpkg/status'
EFI_GLOBAL_GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c'
SECRET_MASK = '********'
# kdump-tools 1.10 copies /proc/vmcore when makedumpfile is missing; 1.8 leaves an empty dump.
KDUMP_TOOLS_CP_FALLBACK = (1, 10)
KDUMP_INITRD = '/var/lib/kdump/initrd.img-%s'

_IOMEM_LINE = re.compile(r'( *)([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.*)')


def read_text(root, path):
    """Content of a host file under `root` (a path or a HostFiles), or None when it is missing, unreadable or refused."""
    return host_files(root).read_text(path)


def read_bytes(root, path):
    """Raw content of a host file (efivars are binary), or None."""
    return host_files(root).read_bytes(path)


def _read_int(root, path):
    text = read_text(root, path)
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def _read_line(root, path):
    text = read_text(root, path)
    return text.strip() if text is not None else None


def _first_existing(root, paths):
    for path in paths:
        if host_files(root).stat(path) is not None:
            return path
    return None


# --- configuration files --------------------------------------------------------------------------

def _kdump_defaults(root, path=KDUMP_DEFAULTS):
    """(settings, warnings) of /etc/default/kdump-tools under `root`; ({}, []) when the file is missing."""
    text = read_text(root, path)
    return parse_shell_assignments(text, source=path) if text is not None else ({}, [])


def read_kdump_defaults(root='/', path=KDUMP_DEFAULTS):
    """The settings of /etc/default/kdump-tools under `root` as a dict ({} when the file is missing)."""
    return _kdump_defaults(root, path)[0]


def use_kdump(settings):
    """USE_KDUMP as the init script's integer test reads it (blanks do not count)."""
    return settings.get('USE_KDUMP', '').strip()


def masked_settings(settings):
    """Settings safe to return: secrets replaced, as `kdump-config show` prints 'FTP_PASSWORD: is set'."""
    return dict((key, SECRET_MASK if key in SECRET_KEYS and value else value) for key, value in settings.items())


def read_grub_cmdline(root='/'):
    """The kernel command line grub-mkconfig would write for normal entries, as (cmdline or None, warnings).

    Sources /etc/default/grub then /etc/default/grub.d/*.cfg in glob order (grub-mkconfig), then joins
    "$GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT" (10_linux). None when none of those files exists.
    """
    root = host_files(root)
    files = []
    if root.is_file(GRUB_DEFAULTS):
        files.append(GRUB_DEFAULTS)
    # grub-mkconfig's glob: names not starting with a dot, in the C locale's order.
    snippets = sorted(name for name in root.list_dir(GRUB_DEFAULTS_DIR) or () if fnmatch.fnmatchcase(name, '*.cfg') and name[0] != '.')
    files.extend(GRUB_DEFAULTS_DIR + '/' + name for name in snippets)
    if not files:
        return None, []
    values = {}
    warnings = []
    for path in files:
        text = read_text(root, path)
        if text is None:
            warnings.append('%s: cannot be read' % path)
            continue
        values, found = parse_shell_assignments(text, values, source=path)
        # Stock files hold shell that does not concern the command line (GRUB_DISTRIBUTOR=`lsb_release ...`).
        warnings.extend(warning for warning in found if 'GRUB_CMDLINE_LINUX' in warning)
    return ('%s %s' % (values.get('GRUB_CMDLINE_LINUX', ''), values.get('GRUB_CMDLINE_LINUX_DEFAULT', ''))).strip(), warnings


def read_grub_cfg_cmdline(root='/'):
    """Arguments of the linux line of the entry GRUB boots next (/boot/grub/grub.cfg and grubenv), or None."""
    entry = next_entry(read_text(root, GRUB_CFG), read_text(root, GRUBENV))
    return entry.args if entry is not None else None


def _version_key(release):
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r'\d+|[^\d.+~-]+', release))


def next_boot_release(root, running):
    """(release GRUB boots next, how it was found): the default entry of grub.cfg, else the newest /boot/vmlinuz-*, else the running one."""
    root = host_files(root)
    release = release_of((next_entry(root.read_text(GRUB_CFG), root.read_text(GRUBENV)) or (None, None, None))[2])
    if release:
        return release, 'grub.cfg'
    kernels = [release_of(name) for name in root.list_dir('/boot') or () if name.startswith('vmlinuz-')]
    kernels = [release for release in kernels if release]
    if kernels:
        return max(kernels, key=_version_key), '/boot'
    return running, 'running' if running else None


# --- /proc, /sys, /var ------------------------------------------------------------------------------

def parse_iomem(text):
    """Sum of top-level System RAM ranges, those ranges and the Crash kernel regions of /proc/iomem.

    Returns {'ram_bytes': int or None, 'ram_ranges': [(start, end inclusive), ...] or None, 'crash_regions':
    [(start, end), ...] or None}; all None when the addresses are all zero (readers without CAP_SYS_ADMIN see zeros).
    """
    ranges = []
    regions = []
    nonzero = False
    for line in text.splitlines():
        match = _IOMEM_LINE.fullmatch(line)
        if not match:
            continue
        start, end = int(match.group(2), 16), int(match.group(3), 16)
        nonzero = nonzero or bool(start or end)
        name = match.group(4).strip()
        if name == 'System RAM' and not match.group(1):
            ranges.append((start, end))
        elif name == 'Crash kernel':
            regions.append((start, end))
    if not nonzero:
        return {'ram_bytes': None, 'ram_ranges': None, 'crash_regions': None}
    return {'ram_bytes': sum(end - start + 1 for start, end in ranges) or None, 'ram_ranges': ranges or None, 'crash_regions': regions}


def parse_meminfo_total(text):
    """MemTotal of /proc/meminfo in bytes, or None."""
    match = re.search(r'^MemTotal:\s+(\d+)\s*kB', text or '', re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_dpkg_version(text, package):
    """Version of `package` in a dpkg status file when its Status is 'install ok installed', else None."""
    for stanza in re.split(r'\n\s*\n', text or ''):
        fields = dict(re.findall(r'^([A-Za-z-]+):[ \t]*(.*)$', stanza, re.MULTILINE))
        if fields.get('Package') == package and fields.get('Status') == 'install ok installed':
            return fields.get('Version')
    return None


def upstream_version(version):
    """(1, 8, 1) from a Debian version such as '1:1.8.1-3'; () when unparsable."""
    match = re.match(r'(?:\d+:)?(\d+(?:\.\d+)*)', version or '')
    return tuple(int(part) for part in match.group(1).split('.')) if match else ()


def parse_lockdown(text):
    """The selected word of /sys/kernel/security/lockdown ('[none] integrity confidentiality' -> 'none')."""
    match = re.search(r'\[(\w+)\]', text or '')
    return match.group(1) if match else None


def _efivar_byte(root, name):
    data = read_bytes(root, '/sys/firmware/efi/efivars/%s-%s' % (name, EFI_GLOBAL_GUID))
    # 4 bytes of attributes, then the value: the last byte is the flag.
    return data[-1] if data and len(data) > 4 else None


def read_secure_boot(root='/'):
    """(efi, secure_boot): Secure Boot counts as on, as kdump-config tests it, when SecureBoot is 1 and SetupMode is 0."""
    if not host_files(root).is_dir('/sys/firmware/efi'):
        return False, False
    return True, _efivar_byte(root, 'SecureBoot') == 1 and _efivar_byte(root, 'SetupMode') == 0


def crash_loaded(root='/'):
    """Whether a capture kernel is loaded, from sysfs; None when the kernel has no kexec support."""
    path = _first_existing(root, ('/sys/kernel/kexec/crash_loaded', '/sys/kernel/kexec_crash_loaded'))
    loaded = _read_int(root, path) if path else None
    return None if loaded is None else loaded == 1


def _specs(cmdline, rules):
    return effective_specs(cmdline, suffixes_of(rules)) if cmdline is not None else {'plain': None, 'high': None, 'low': None}


def _normalized(specs):
    return tuple(normalize_spec(specs[key]) for key in ('plain', 'high', 'low'))


def _describe(specs):
    parts = ['crashkernel=%s' % specs[key] for key in ('plain', 'high', 'low') if specs[key] is not None]
    return ' '.join(parts) if parts else 'no crashkernel='


def _predict(cmdline, ram, rules, ram_ranges):
    """(what kexec_crash_size should read or None, why the kernel reserves nothing or None) for a command line."""
    if cmdline is None or not ram:
        return None, None
    result = predict(cmdline, ram, rules, ram_ranges)
    if result is None:
        return None, None
    return result.sysfs_bytes, result.problem


# --- the whole picture ------------------------------------------------------------------------------

def gather(root='/'):
    """The kdump and crashkernel state of the host under `root` as a dict (the crashkernel_facts facts)."""
    problems = []
    root = HostFiles(root)
    cmdline = _read_line(root, '/proc/cmdline')
    kernel_release = _read_line(root, '/proc/sys/kernel/osrelease')
    rules = kernel_rules(kernel_release)
    running = _specs(cmdline, rules)
    next_release, next_release_source = next_boot_release(root, kernel_release)
    next_rules = kernel_rules(next_release)

    iomem_text = read_text(root, '/proc/iomem')
    iomem = parse_iomem(iomem_text) if iomem_text is not None else {'ram_bytes': None, 'crash_regions': None, 'ram_ranges': None}
    ram_bytes, ram_source = iomem['ram_bytes'], 'iomem'
    if ram_bytes is None:
        ram_bytes, ram_source = parse_meminfo_total(read_text(root, '/proc/meminfo')), 'meminfo'
        if ram_bytes is None:
            ram_source = None
    regions = iomem['crash_regions']
    reserved_low = None
    if regions is not None:
        reserved_low = min(regions)[1] - min(regions)[0] + 1 if len(regions) > 1 else 0

    size_path = _first_existing(root, ('/sys/kernel/kexec/crash_size', '/sys/kernel/kexec_crash_size'))
    reserved = _read_int(root, size_path) if size_path else None

    expected, error = _predict(cmdline, ram_bytes, rules, iomem['ram_ranges'])
    if error:
        problems.append('%s (running kernel %s)' % (error, kernel_release or 'of unknown release'))

    configured_cmdline, warnings = read_grub_cmdline(root)
    problems.extend(warnings)
    configured = _specs(configured_cmdline, next_rules)
    configured_expected, configured_error = _predict(configured_cmdline, ram_bytes, next_rules, iomem['ram_ranges'])
    grub_cfg = _specs(read_grub_cfg_cmdline(root), next_rules)
    grub_cfg_exists = root.is_file(GRUB_CFG)

    reboot_required = configured_cmdline is not None and _normalized(configured) != _normalized(running)
    grub_update_required = configured_cmdline is not None and grub_cfg_exists and _normalized(configured) != _normalized(grub_cfg)

    settings, warnings = _kdump_defaults(root)
    problems.extend(warnings)
    installed = root.is_file(KDUMP_CONFIG)
    tools_version = parse_dpkg_version(read_text(root, DPKG_STATUS), 'kdump-tools')
    makedumpfile = root.is_file(MAKEDUMPFILE)
    efi, secure_boot = read_secure_boot(root)
    lockdown = parse_lockdown(read_text(root, '/sys/kernel/security/lockdown'))

    facts = {
        'cmdline': cmdline,
        'cmdline_spec': running['plain'],
        'cmdline_high_spec': running['high'],
        'cmdline_low_spec': running['low'],
        'ram_bytes': ram_bytes,
        'ram_source': ram_source,
        'kernel_release': kernel_release,
        'ram_rounded': rules.rounds_ram,
        'next_boot_release': next_release,
        'next_boot_release_source': next_release_source,
        'expected_bytes': expected,
        'reserved_bytes': reserved,
        'reserved_low_bytes': reserved_low,
        'kexec_loaded': crash_loaded(root),
        'configured_cmdline': configured_cmdline,
        'configured_spec': configured['plain'],
        'configured_high_spec': configured['high'],
        'configured_low_spec': configured['low'],
        'configured_expected_bytes': configured_expected,
        'grub_cfg_spec': grub_cfg['plain'],
        'grub_update_required': grub_update_required,
        'reboot_required': reboot_required,
        'kdump_installed': installed,
        'kdump_settings': masked_settings(settings),
        'kdump_tools_version': tools_version,
        'makedumpfile_installed': makedumpfile,
        'sysrq': _read_int(root, '/proc/sys/kernel/sysrq'),
        'efi': efi,
        'secure_boot': secure_boot,
        'lockdown': lockdown,
        'kexec_file_load_required': bool(secure_boot or (lockdown is not None and lockdown != 'none')),
        'boot_id': _read_line(root, '/proc/sys/kernel/random/boot_id'),
        'cpu_count': _count_processors(read_text(root, '/proc/cpuinfo')),
    }
    facts['kdump_state'], facts['kdump_state_reason'] = _kdump_state(facts)
    initrd_bytes = _file_size(root, KDUMP_INITRD % kernel_release) if kernel_release else None
    # kdump-config reads ${KDUMP_CMDLINE_APPEND:=<package default>}: set but empty also means the default.
    advice = recommend(ram_bytes, facts['cpu_count'], kernel_release, initrd_bytes, settings.get('KDUMP_CMDLINE_APPEND') or None)
    facts.update(recommended_spec=advice['spec'], recommended_bytes=advice['bytes'], recommended_reasoning=advice['reasoning'])
    problems.extend(_reservation_problems(facts, configured_error))
    problems.extend(_kdump_problems(facts))
    problems.extend(root.refused)
    facts['problems'] = problems
    return facts


def _file_size(root, path):
    info = host_files(root).stat(path)
    return info.st_size if info is not None else None


def _count_processors(text):
    if text is None:
        return None
    return len(re.findall(r'^processor\b', text, re.MULTILINE)) or None


def _kdump_state(facts):
    """(state, reason in plain words) from files and sysfs, never from kdump-config exit codes (they lie)."""
    if not facts['kdump_installed']:
        return 'not installed', 'kdump-tools is not installed (no %s)' % KDUMP_CONFIG
    enabled = use_kdump(facts['kdump_settings'])
    if enabled in ('', '0'):
        return 'disabled', 'USE_KDUMP is not set or 0 in %s' % KDUMP_DEFAULTS
    if facts['kexec_loaded']:
        return 'ready', 'a capture kernel is loaded'
    if facts['kexec_loaded'] is None:
        reason = 'the running kernel has no kexec support (no /sys/kernel/kexec_crash_loaded)'
    elif facts['cmdline_spec'] is None and facts['cmdline_high_spec'] is None:
        reason = 'no crashkernel= on the kernel command line'
    elif facts['reserved_bytes'] == 0:
        reason = 'crashkernel= reserved nothing'
    elif not re.fullmatch(r'[0-9]+', enabled):
        reason = 'capture kernel not loaded: USE_KDUMP=%s makes the init script skip loading' % enabled
    else:
        reason = 'capture kernel not loaded (run kdump-config load and read its output)'
    return 'not ready', reason


def _reservation_problems(facts, configured_error):
    problems = []
    spec = facts['cmdline_spec']
    expected = facts['expected_bytes']
    reserved = facts['reserved_bytes']
    enabled = facts['kdump_state'] not in ('not installed', 'disabled')
    if enabled and spec is None and facts['cmdline_high_spec'] is None:
        problems.append('no crashkernel= on the kernel command line: nothing is reserved for the capture kernel')
    if expected and reserved is not None and reserved != expected:
        detail = 'the reservation failed (see "crashkernel" in dmesg)' if reserved == 0 else 'check the RAM figure and dmesg'
        if facts['ram_source'] == 'meminfo':
            detail += '; RAM was taken from MemTotal, which is below what the kernel compares'
        problems.append('crashkernel= asks for %s but the kernel reserved %s: %s'
                        % (format_bytes(expected), format_bytes(reserved), detail))
    recommended = facts['recommended_bytes']
    if enabled and reserved and recommended and reserved < recommended:
        problems.append('crashkernel reserves %s, below the %s recommended for this host (recommended_reasoning): the capture '
                        'kernel may run out of memory' % (format_bytes(reserved), format_bytes(recommended)))
    if configured_error:
        problems.append('next boot: %s (kernel %s, boot configuration)' % (configured_error, facts['next_boot_release'] or 'of unknown release'))
    if facts['reboot_required']:
        configured = {'plain': facts['configured_spec'], 'high': facts['configured_high_spec'], 'low': facts['configured_low_spec']}
        running = {'plain': spec, 'high': facts['cmdline_high_spec'], 'low': facts['cmdline_low_spec']}
        nxt = facts['configured_expected_bytes']
        reserves = format_bytes(nxt) if nxt else 'nothing'
        problems.append('reboot needed: next boot reserves %s (%s) but the running kernel booted with %s'
                        % (reserves, _describe(configured), _describe(running)))
    if facts['grub_update_required']:
        problems.append('update-grub needed: %s does not match /etc/default/grub and grub.d (%s)'
                        % (GRUB_CFG, 'crashkernel=%s' % facts['grub_cfg_spec'] if facts['grub_cfg_spec'] else 'no crashkernel='))
    return problems


def _kdump_problems(facts):
    problems = []
    if not facts['kdump_installed']:
        return problems
    settings = facts['kdump_settings']
    value = use_kdump(settings)
    if value not in ('', '0', '1'):
        if re.fullmatch(r'[0-9]+', value):
            problems.append('USE_KDUMP=%s: use 0 or 1' % value)
        else:
            problems.append('USE_KDUMP=%s is not 0 or 1: the init script then silently disables kdump at boot' % value)
    if facts['kdump_state'] == 'disabled' and facts['kexec_loaded']:
        problems.append('a capture kernel is still loaded although kdump is disabled: run kdump-config unload')
    if not facts['makedumpfile_installed']:
        version = upstream_version(facts['kdump_tools_version'])
        if version and version < KDUMP_TOOLS_CP_FALLBACK:
            problems.append('makedumpfile is not installed: kdump-tools %s writes empty dumps' % '.'.join(str(part) for part in version))
        else:
            problems.append('makedumpfile is not installed: dumps are a full uncompressed copy of memory, or empty with kdump-tools < 1.10')
    if facts['lockdown'] not in (None, 'none') and not facts['secure_boot']:
        args = settings.get('KDUMP_KEXEC_ARGS', '').split()
        if '-s' not in args and '--kexec-file-syscall' not in args:
            problems.append('lockdown is active (%s) but Secure Boot is off: kdump-config only uses kexec_file_load (kexec -s) '
                            'under Secure Boot, so loading fails; add -s to KDUMP_KEXEC_ARGS' % facts['lockdown'])
    return problems
