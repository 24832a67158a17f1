#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Puts meson's integration tests into the virtual host's root (the
# `integration` step runs them there, under kvm_amd's /dev/kvm).
#
# The one source of truth is tests/integration/meson.build: meson writes every
# test it defines, with its full command line, environment and timeout, to
# BUILD/meson-info/intro-tests.json (the same data `meson introspect --tests`
# prints). For each test of the `integration` suite this script
#   - copies the script's directory (the test scripts and their lib.sh) to
#     ROOT/it/<directory name>/
#   - rewrites its arguments: the build's sluice -> /usr/bin/sluice (put there
#     by mkinitramfs.sh), any other argument naming an existing file (the test
#     guests) -> a copy in ROOT/it/files/, anything else (e.g. a vCPU count)
#     unchanged
#   - writes one line to ROOT/it/manifest, shell-quoted words:
#       NAME TIMEOUT EXPECT [KEY=VALUE...] INTERPRETER SCRIPT ARGS...
#     (EXPECT: pass, or fail for a test meson declares should_fail)
# and prints each interpreter (the command's first word, e.g. /usr/bin/bash)
# once, for mkinitramfs.sh to copy with its shared libraries.
#
# usage: it-manifest.py BUILDDIR ROOT
import json
import os
import shlex
import shutil
import sys


def main():
    build, root = sys.argv[1], sys.argv[2]
    build = os.path.realpath(build)
    with open(os.path.join(build, "meson-info", "intro-tests.json")) as f:
        tests = json.load(f)
    sluice = os.path.realpath(os.path.join(build, "sluice"))
    it = os.path.join(root, "it")
    files = os.path.join(it, "files")
    os.makedirs(files, exist_ok=True)
    copied = {}  # basename in ROOT/it/files -> source path
    lines, interpreters = [], []

    def put_file(src):
        name = os.path.basename(src)
        if copied.setdefault(name, src) != src:
            sys.exit(f"it-manifest: two test files named {name}: {copied[name]} and {src}")
        shutil.copyfile(src, os.path.join(files, name))
        return "/it/files/" + name

    for t in tests:
        # meson names suites PROJECT:SUITE
        if not any(s == "integration" or s.endswith(":integration") for s in t["suite"]):
            continue
        if t.get("protocol", "exitcode") != "exitcode":
            sys.exit(f"it-manifest: {t['name']}: only exit-code tests are supported")
        cwd = t.get("workdir") or build
        interp, script, args = t["cmd"][0], t["cmd"][1], t["cmd"][2:]
        if interp not in interpreters:
            interpreters.append(interp)
        sdir = os.path.dirname(os.path.realpath(script))
        dest = os.path.join(it, os.path.basename(sdir))
        if not os.path.isdir(dest):
            shutil.copytree(sdir, dest, ignore=shutil.ignore_patterns("meson.build"))
        words = [interp, f"/it/{os.path.basename(sdir)}/{os.path.basename(script)}"]
        for a in args:
            p = os.path.realpath(os.path.join(cwd, a))
            if p == sluice:
                words.append("/usr/bin/sluice")
            elif os.path.isfile(p):
                words.append(put_file(p))
            else:
                words.append(a)
        env = [f"{k}={v}" for k, v in sorted((t.get("env") or {}).items())]
        expect = "fail" if t.get("should_fail") else "pass"
        lines.append(shlex.join([t["name"], str(t.get("timeout") or 300), expect] + env + words))
    if not lines:
        sys.exit("it-manifest: no test of the integration suite in intro-tests.json")
    with open(os.path.join(it, "manifest"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(interpreters))


main()
