#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/abi/test_check_abi.py: the ABI checker's own test: edited headers must fail, additions must pass.
"""Runs tests/abi/check_abi.py on edited copies of the public headers.

Each case copies the headers and the reference to a temp dir, applies one
edit, runs the checker and checks its verdict and the reason it gives.
Options other than --headers/--golden/--workdir/--keep are passed through to
the checker (compiler paths from CMake).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
CHECKER = os.path.join(HERE, "check_abi.py")


def edit(path, old, new, count=1):
    with open(path) as f:
        s = f.read()
    if s.count(old) < 1:
        raise SystemExit("test setup: %r not found in %s" % (old, path))
    s = s.replace(old, new, count)
    with open(path, "w") as f:
        f.write(s)


def swap_fields(path):
    edit(path, "\tuint32_t remote_port;\t\t/* OUT: INTERDOMAIN: peer port; else 0 */\n"
               "\tuint32_t virq;\t\t\t/* OUT: VIRQ: KEEL_VIRQ_*; else 0 */\n",
               "\tuint32_t virq;\t\t\t/* OUT: VIRQ: KEEL_VIRQ_*; else 0 */\n"
               "\tuint32_t remote_port;\t\t/* OUT: INTERDOMAIN: peer port; else 0 */\n")


def set_version(path, minor_delta, version_delta):
    """Move KEEL_ABI_MINOR and KEEL_ABI_VERSION by the deltas, whatever the current release."""
    with open(path) as f:
        s = f.read()
    minor = int(re.search(r"#define KEEL_ABI_MINOR\s+(\d+)", s).group(1))
    version = int(re.search(r"#define KEEL_ABI_VERSION\s+(0x[0-9a-fA-F]+)", s).group(1), 16)
    s = re.sub(r"(#define KEEL_ABI_MINOR\s+)\d+", lambda m: m.group(1) + str(minor + minor_delta), s)
    s = re.sub(r"(#define KEEL_ABI_VERSION\s+)0x[0-9a-fA-F]+",
               lambda m: m.group(1) + "0x%08x" % (version + version_delta), s)
    with open(path, "w") as f:
        f.write(s)


# (name, header to edit, edit function(path), expect pass?, regex the output must match)
CASES = [
    ("unchanged headers pass", None, None, True, r"abi-check: PASS"),
    ("uint32_t widened to uint64_t fails", "keel/console.h",
     lambda p: edit(p, "\tuint32_t len;\t\t\t/* OUT: bytes copied (0: nothing at pos yet) */\n"
                       "\tuint32_t pad0;\t\t\t/* MBZ */\n",
                    "\tuint64_t len;\t\t\t/* OUT: bytes copied (0: nothing at pos yet) */\n"),
     False, r"BREAKING: field keel_stream_read\.len changed"),
    ("two fields swapped fails", "keel/event_channel.h", swap_fields,
     False, r"BREAKING: field keel_evtchn_status\.(virq|remote_port) changed"),
    ("constant value changed fails", "keel/errno.h",
     lambda p: edit(p, "#define KEEL_EINVAL\t\t4\t", "#define KEEL_EINVAL\t\t44\t"),
     False, r"BREAKING: const KEEL_EINVAL changed"),
    ("hypercall number changed fails", "keel/hypercall.h",
     lambda p: edit(p, "#define KEEL_HC_EVTCHN_SEND\t\t0x034", "#define KEEL_HC_EVTCHN_SEND\t\t0x03c"),
     False, r"BREAKING: const KEEL_HC_EVTCHN_SEND changed"),
    ("struct removed fails", "keel/grant_table.h",
     lambda p: edit(p, "struct keel_gnttab_query {\n"
                       "\tuint32_t nr_frames;\t\t/* OUT: frames allocated */\n"
                       "\tuint32_t max_frames;\t\t/* OUT: limit set at domain creation */\n};\n", ""),
     False, r"BREAKING: struct keel_gnttab_query disappeared"),
    ("device-table property renamed fails", "keel/device_table.h",
     lambda p: edit(p, '"keel,peer-domid"', '"keel,peer"'),
     False, r"BREAKING: str KEEL_DT_PROP_PEER_DOMID changed"),
    ("implicit padding fails", "keel/grant_table.h",
     lambda p: edit(p, "\tuint16_t pad0;\t\t\t/* MBZ */\n\tint32_t status;\t\t\t/* OUT */\n"
                       "\tuint32_t pad1;\t\t\t/* MBZ */\n",
                    "\tint32_t status;\t\t\t/* OUT */\n\tuint32_t pad1;\t\t\t/* MBZ */\n"),
     False, r"-Wpadded|padding"),
    ("a field appended to a released struct fails", "keel/abi.h",
     lambda p: edit(p, "\tuint8_t pkg_name[32];\t\t/* IN: free text, ASCII, NUL-padded */\n",
                    "\tuint8_t pkg_name[32];\t\t/* IN: free text, ASCII, NUL-padded */\n"
                    "\tuint64_t extra;\t\t\t/* IN */\n"),
     False, r"padd|differs|BREAKING"),
    ("reference disagreeing with a cross compiler fails its compile-time asserts", "GOLDEN",
     lambda p: edit(p, "field keel_gnttab_map.handle offset 20 size 4",
                    "field keel_gnttab_map.handle offset 24 size 4"),
     False, r"(?s)(?=.*mingw-x86_64: layout asserts.*field keel_gnttab_map\.handle offset 24)"
            r"(?=.*mingw-i686: layout asserts)(?=.*aarch64: layout asserts)"),
    ("a pointer member fails lint", "keel/memory.h",
     lambda p: edit(p, "\tuint64_t gfn;\t\t\t/* IN: first GFN, aligned to 1 << order pages */\n",
                    "\tvoid *gfn;\t\t\t/* IN */\n"),
     False, r"cannot read this struct member"),
    ("'long' fails lint", "keel/sched.h",
     lambda p: edit(p, "#define KEEL_SCHED_POLL_MAX\t\t128", "#define KEEL_SCHED_POLL_MAX\t\t((long)128)"),
     False, r"forbidden 'long'"),
    ("new struct and constant pass with an ADDITIVE note", "keel/memory.h",
     lambda p: edit(p, "#endif /* KEEL_PUBLIC_MEMORY_H */",
                    "#define KEEL_MEMORY_SELFTEST_NEW\t7\n\n"
                    "struct keel_memory_selftest_new {\n"
                    "\tuint64_t value;\t\t\t/* OUT */\n"
                    "\tuint32_t count;\t\t\t/* OUT */\n"
                    "\tuint32_t pad0;\t\t\t/* MBZ */\n"
                    "};\n\n#endif /* KEEL_PUBLIC_MEMORY_H */"),
     True, r"(?s)ADDITIVE: 5 new entries.*\+ const KEEL_MEMORY_SELFTEST_NEW 0x7.*"
           r"\+ struct keel_memory_selftest_new size 16 align 8.*abi-check: PASS"),
    ("the ABI minor growing passes with a note", "keel/abi.h",
     lambda p: set_version(p, 1, 1), True, r"(?s)ADDITIVE: ABI minor \d+ -> \d+.*abi-check: PASS"),
    ("the ABI minor going down fails", "keel/abi.h",
     lambda p: set_version(p, -1, -1), False, r"BREAKING: KEEL_ABI_MINOR went down"),
    ("a version word that does not follow the minor fails", "keel/abi.h",
     lambda p: set_version(p, 1, 0), False, r"KEEL_ABI_VERSION 0x[0-9a-f]+ is not"),
]


def main():
    passthrough = []
    keep = False
    argv = sys.argv[1:]
    i = 0
    headers = os.path.join(REPO, "hypervisor", "include", "public")
    golden = os.path.join(HERE, "reference", "abi-v1.txt")
    workroot = None
    while i < len(argv):
        a = argv[i]
        if a in ("--headers", "--golden", "--workdir"):
            val = argv[i + 1]
            if a == "--headers":
                headers = val
            elif a == "--golden":
                golden = val
            else:
                workroot = val
            i += 2
            continue
        if a == "--keep":
            keep = True
            i += 1
            continue
        passthrough.append(a)
        i += 1

    root = workroot or tempfile.mkdtemp(prefix="keel-abi-selftest-")
    if workroot:
        shutil.rmtree(workroot, ignore_errors=True)
        os.makedirs(workroot)
    failures = 0
    try:
        for n, (name, hdr, fn, want_pass, want_re) in enumerate(CASES):
            case = os.path.join(root, "case%02d" % n)
            shutil.copytree(headers, os.path.join(case, "include"))
            shutil.copy(golden, os.path.join(case, "abi.txt"))
            if fn:
                fn(os.path.join(case, "abi.txt") if hdr == "GOLDEN"
                   else os.path.join(case, "include", hdr))
            cmd = [sys.executable, CHECKER, "--headers", os.path.join(case, "include"),
                   "--golden", os.path.join(case, "abi.txt"),
                   "--workdir", os.path.join(case, "work")] + passthrough
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=600)
            ok = (p.returncode == 0) == want_pass and re.search(want_re, p.stdout)
            print("%s: %s (checker exit %d)" % ("ok  " if ok else "FAIL", name, p.returncode))
            if not ok:
                failures += 1
                print("  expected %s and output matching %r; output was:" %
                      ("PASS" if want_pass else "FAIL", want_re))
                print("\n".join("  | " + l for l in p.stdout.rstrip().split("\n")))
        with open(golden) as f:
            g = f.read()
        if "SELFTEST" in g:
            failures += 1
            print("FAIL: the self-test leaked into the real reference %s" % golden)
    finally:
        if not keep and not workroot:
            shutil.rmtree(root, ignore_errors=True)
    print("checker self-test: %s (%d/%d cases)" % ("PASS" if not failures else "FAIL",
                                                  len(CASES) - failures, len(CASES)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
