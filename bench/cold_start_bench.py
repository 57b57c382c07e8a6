"""Cold start of the artifact that is deployed: each handler imported from the `sam build` output, as Lambda runs it.

Run: PATH="$(pyenv prefix 3.13.0)/bin:$PATH" ./uvw run python -m bench.cold_start_bench [--runs 21] [--build-dir DIR]

The built function and layer folders are copied, made read-only and run by the runtime's Python (3.13) with
PYTHONDONTWRITEBYTECODE=1 and only those folders and the runtime SDK on sys.path (bench/deployed_artifact.py), so
a module without valid bytecode is compiled at every start, as on Lambda. Each run starts three fresh interpreters,
in turn so that drift on the machine hits all alike: `import boto3` (the baseline, the runtime SDK with its
bytecode), the handler without the Lambda variables (imports only), and the handler as Lambda starts it (INIT:
imports and what `init()` builds), each followed by the function's first request with AWS answered in memory.
Without --build-dir it runs `sam build` first (sam and python3.13 on PATH). Prints markdown tables; docs/benchmarks.md
records the latest results.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench import WITH_313, rerun
from bench.deployed_artifact import Deployed, deploy, files, make_writable, probe, python_version, runtime_python, sam_build

FIRST_REQUEST = {
    "IngestFunction": ("ingest", "a signed 1-message WhatsApp POST"),
    "ProcessFunction": ("process", "reading the CRM secret and building the use case"),
    "OutboundFunction": ("outbound", "reading both secrets and building the use case"),
    "DeskEventsFunction": ("desk_events", "a signed Zendesk delivery: an agent's reply on an unknown conversation"),
    "SlaCheckFunction": ("sla_check", "one scheduled run over an empty due index"),
}


def measure(deployed: Deployed, function: str, runs: int) -> list[tuple[str, str]]:
    """The rows for one function, from `runs` rounds of fresh interpreters."""
    request, what = FIRST_REQUEST[function]
    boto3: list[float] = []
    imports: list[dict[str, Any]] = []
    inits: list[dict[str, Any]] = []
    before = files(deployed.root)
    for _ in range(runs):
        boto3.append(probe(deployed, function, module="boto3")["import_seconds"])
        imports.append(probe(deployed, function, request=request))
        inits.append(probe(deployed, function, lambda_init=True, request=request))
    assert files(deployed.root) == before, "a probe wrote into the deployed copy"
    baseline = statistics.median(boto3)
    imported = statistics.median(run["import_seconds"] for run in imports)
    init = statistics.median(run["import_seconds"] for run in inits)
    lazy_first = statistics.median(run["first_request_seconds"] for run in imports)
    first_after_init = statistics.median(run["first_request_seconds"] for run in inits)
    last = inits[-1]
    lazy_builds = ", ".join(imports[-1]["clients_built_by_first_request"]) or "none"
    init_builds = ", ".join(last["clients_built_by_first_request"]) or "none"
    compiled = max(len(run["compiled_during_import"]) + len(run["compiled_during_first_request"]) for run in (*imports, *inits))
    heavy = sorted({name.split(".")[0] for name in imports[-1]["heavy"]})
    return [
        (f"cold `import boto3` (runtime SDK), median of {runs}", f"{baseline * 1000:.0f} ms"),
        (f"cold import of the handler from the built layers, median of {runs}", f"{imported * 1000:.0f} ms"),
        ("handler import / `import boto3`", f"{imported / baseline:.2f} x"),
        ("modules loaded (from the function and its layers)", f"{last['modules']} ({last['modules_from_artifact']})"),
        ("modules compiled from source, import and first request (most in one run)", str(compiled)),
        ("modules of the artifact imported without bytecode (most in one run)", str(max(len(run["without_bytecode"]) for run in (*imports, *inits)))),
        ("heavy libraries loaded (pydantic, zenpy, simple_salesforce, tweepy, requests)", ", ".join(heavy) or "none"),
        (f"INIT as in Lambda: import + `init()`, median of {runs}", f"{init * 1000:.0f} ms ({init / baseline:.2f} x boto3)"),
        ("clients built during INIT", ", ".join(last["clients_built_at_import"]) or "none"),
        (f"first request ({what}), clients left to it: median", f"{lazy_first * 1000:.1f} ms, builds {lazy_builds}"),
        (f"first request ({what}) after INIT: median", f"{first_after_init * 1000:.1f} ms, builds {init_builds}"),
        ("modules the first request imports after INIT", ", ".join(last["imported_by_first_request"]) or "none"),
    ]


def deployed_artifact(build_dir: Path | None, workdir: Path) -> Deployed:
    python = runtime_python()
    if python is None:
        raise SystemExit("python3.13 (the Lambda runtime's Python) is not on PATH; see docs/benchmarks.md")
    if build_dir is None:
        build_dir = workdir / "build"
        sam_build(build_dir)
    return deploy(build_dir, workdir / "deployed", python)


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"{title}\n\n| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="rounds of fresh interpreters per function")
    parser.add_argument("--build-dir", type=Path, help="an existing `sam build --build-dir` output (default: build one)")
    parser.add_argument("--function", choices=sorted(FIRST_REQUEST), action="append", help="only this function (repeatable)")
    args = parser.parse_args()
    print(f"Command: {rerun('bench.cold_start_bench', WITH_313)}\n")
    with tempfile.TemporaryDirectory() as folder:
        deployed = deployed_artifact(args.build_dir, Path(folder))
        print(f"Runtime Python {python_version(deployed.python)} on {platform.machine()}, artifact {args.build_dir or 'built now'}\n")
        try:
            for function in args.function or sorted(FIRST_REQUEST):
                print_table(f"{function}", measure(deployed, function, args.runs))
        finally:
            make_writable(Path(folder))


if __name__ == "__main__":
    main()
