"""Builds one Lambda artifact (a function's code or a layer's python/ folder) with its bytecode, for `sam build`.

`sam build` runs this through each resource's Makefile (`Metadata: BuildMethod: makefile`): the function or layer
folder is the working directory and ARTIFACTS_DIR the output. SAM's own Python builder (`BuildMethod: python3.13`)
ships no bytecode: its copy step excludes `*.pyc` and `__pycache__` (aws-lambda-builders,
workflows/python_pip/workflow.py, EXCLUDED_FILES) and it unpacks dependency wheels without compiling them. Lambda's
file system is read-only apart from /tmp (AWS Compute Blog, "Using larger ephemeral storage for AWS Lambda"; layers
are extracted to /opt, Lambda Developer Guide, "Packaging your layer content"), so every cold start compiled every
module it imported and threw the result away.

Here, after pip installs the locked requirements for the target architecture, every module is compiled by this
interpreter, which must be the runtime's Python (bytecode is specific to a Python minor version, not to an
architecture), into `__pycache__/<name>.cpython-313.pyc` files in "unchecked-hash" mode (PEP 552): the interpreter
loads them without looking at the source's modification time, which a zip archive does not keep exactly (it stores
local times to 2 seconds), and without hashing the source. Each pyc records the hash of the source it was compiled
from, so a test can prove that the pycs match the sources shipped beside them (tests/e2e/test_sam_artifact.py).
Code objects are given the path the file will have on Lambda (`--prefix`, e.g. /opt/python), so the output does not
depend on the build folder.

Usage (the Makefiles): python3.13 infra/build_python.py --target DIR --prefix /opt/python [--requirements FILE] [SOURCE ...]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

# Lambda's Python runtime and the wheels it can load. python3.13 runs on Amazon Linux 2023 (glibc 2.34); the list is
# the one SAM's own builder uses for arm64 (aws-lambda-builders, python_pip/packager.py, _COMPATIBLE_PLATFORM_ARM64).
RUNTIME = (3, 13)
PLATFORMS = {
    "arm64": ("manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"),
    "x86_64": ("manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"),
}
# What a source tree may hold that does not belong in the artifact (caches of local runs, other interpreters' pycs).
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache", ".ruff_cache")


def install_requirements(requirements: Path, target: Path, architecture: str) -> None:
    """The locked requirements, as wheels built for Lambda's platform and Python; pip compiles nothing."""
    tag = f"{RUNTIME[0]}{RUNTIME[1]}"
    platforms = [argument for platform in PLATFORMS[architecture] for argument in ("--platform", platform)]
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile", "--only-binary=:all:"]
    command += [*platforms, "--implementation", "cp", "--python-version", f"{RUNTIME[0]}.{RUNTIME[1]}", "--abi", f"cp{tag}"]
    command += ["--target", str(target), "--requirement", str(requirements)]
    subprocess.run(command, check=True)
    # Console scripts (pip puts them in bin/) are not importable and would name this machine's interpreter.
    shutil.rmtree(target / "bin", ignore_errors=True)


def copy_sources(sources: list[Path], target: Path) -> None:
    for source in sources:
        if source.is_dir():
            shutil.copytree(source, target / source.name, ignore=IGNORED, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target / source.name)


def compile_all(target: Path, prefix: str) -> int:
    """Compile every module under `target`; the number of modules, or SystemExit naming those that failed."""
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)  # only bytecode compiled here, by this interpreter, ships
    ok = compileall.compile_dir(
        target,
        quiet=1,
        force=True,
        workers=0,
        optimize=0,  # Lambda runs Python without -O: it looks for <name>.cpython-313.pyc
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        stripdir=str(target),
        prependdir=prefix,
    )
    sources = [path for path in target.rglob("*.py") if path.is_file()]
    missing = [str(path.relative_to(target)) for path in sources if not Path(importlib.util.cache_from_source(str(path))).is_file()]
    if not ok or missing:
        raise SystemExit(f"build_python: {len(missing)} modules did not compile: {', '.join(missing[:20])}")
    return len(sources)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build a Lambda function or layer folder with its bytecode.")
    parser.add_argument("--target", type=Path, required=True, help="the artifact folder (emptied first)")
    parser.add_argument("--prefix", required=True, help="where the target folder is on Lambda: /var/task or /opt/python")
    parser.add_argument("--requirements", type=Path, help="a requirements file to install (exact pins)")
    parser.add_argument("--architecture", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("sources", type=Path, nargs="*", help="files and packages to copy into the target")
    args = parser.parse_args(argv)
    if sys.version_info[:2] != RUNTIME:
        raise SystemExit(
            f"build_python: running on Python {sys.version_info[0]}.{sys.version_info[1]}; the bytecode must be compiled by "
            f"the runtime's Python {RUNTIME[0]}.{RUNTIME[1]} (put python3.{RUNTIME[1]} on PATH, README: Deploying)"
        )
    target: Path = args.target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if args.requirements:
        install_requirements(args.requirements, target, args.architecture)
    copy_sources(args.sources, target)
    count = compile_all(target, args.prefix)
    print(f"build_python: {count} modules compiled for Python {RUNTIME[0]}.{RUNTIME[1]} (unchecked-hash) into {target}")


if __name__ == "__main__":
    main()
