"""The code's rooms, held: imports run one way, use cases reach the outside only through ports.

Read from the source with `ast`, so a regression fails CI before a reviewer has to spot it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "core" / "socialdesk"
# What a use case may import from another room: ports, the model and the plain helpers beside them.
USE_CASES = {"ingest", "process", "outbound", "desk_events"}
# Outbound runs its jobs through process's SQS batch driver and its failure types (waits, failures, dead-lettering),
# rather than a second copy of that retry logic; nothing else of process.
SHARED_FROM_PROCESS = {"socialdesk.process.sqs_batch", "socialdesk.process.failures"}
ADAPTER_MODULES = {
    "socialdesk.desk.zendesk",
    "socialdesk.desk.sandbox",
    "socialdesk.crm.salesforce",
    "socialdesk.crm.sandbox",
    "socialdesk.store.dynamodb",
    "socialdesk.composition",
    "socialdesk.local",
    "socialdesk.cli",
}
THIRD_PARTY_CLIENTS = {"boto3", "botocore", "zenpy", "simple_salesforce", "requests"}


def imports() -> dict[str, set[str]]:
    """Module name → every module it imports (at run time or for type checking alike)."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found[module].add(node.module)
            elif isinstance(node, ast.Import):
                found[module].update(alias.name for alias in node.names)
    return found


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_two_rooms_import_each_other() -> None:
    # Given which room imports which
    edges: dict[str, set[str]] = defaultdict(set)
    for module, targets in imports().items():
        for target in targets:
            if target.startswith("socialdesk.") and room(target) != room(module):
                edges[room(module)].add(room(target))
    # Then no pair imports both ways (the old crm ↔ rules loop, for one)
    loops = sorted(f"{a} <-> {b}" for a in edges for b in edges[a] if a < b and a in edges.get(b, set()))
    assert loops == []


def test_use_cases_reach_the_outside_only_through_ports() -> None:
    for module, targets in imports().items():
        if room(module) not in USE_CASES:
            continue
        adapters = {target for target in targets if any(target == name or target.startswith(f"{name}.") for name in ADAPTER_MODULES)}
        clients = {target for target in targets if target.split(".")[0] in THIRD_PARTY_CLIENTS}
        assert not adapters, f"{module} imports adapters {adapters}"
        assert not clients, f"{module} imports client libraries {clients}"


def test_shared_ports_live_in_ports_not_in_one_use_case() -> None:
    # Process and the adapters once imported ingest's ports: every cross-use-case import now goes through socialdesk.ports
    for module, targets in imports().items():
        for target in targets:
            if target.startswith("socialdesk.") and room(target) in USE_CASES:
                if room(module) == "outbound" and target in SHARED_FROM_PROCESS:
                    continue
                assert room(module) in (room(target), "composition", "local", "cli"), f"{module} imports {target}"


def test_one_module_per_name_config_is_gone() -> None:
    # Two modules named `config` confused readers: the rules file and the deployment settings are named for what they hold
    names = [path.stem for path in PACKAGE.rglob("*.py")]
    assert "config" not in names
    assert (PACKAGE / "rules.py").is_file()
    assert (PACKAGE / "settings.py").is_file()


def reached(start: str) -> set[str]:
    """Every module `start` imports, directly or through socialdesk's own modules (an over-estimate: type-only and
    function-local imports count too, so a lazy import cannot hide an SDK)."""
    graph, seen, todo = imports(), set(), [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += [target for target in graph.get(module, ()) if target.startswith("socialdesk.")]
    return seen | {target for module in seen for target in graph.get(module, ())}


# A function that never calls an SDK must not pay for loading it during INIT: outbound and sla_check write to Zendesk
# only, desk_events queues agents' replies for outbound, ingest only queues (tests/e2e/test_sam_artifact.py checks the
# built handlers the same way).
NOT_LOADED = {
    "socialdesk.composition.ingest": ("zenpy", "simple_salesforce", "socialdesk.crm.salesforce", "socialdesk.desk.zendesk"),
    "socialdesk.composition.desk_events": ("zenpy", "simple_salesforce", "socialdesk.crm.salesforce", "socialdesk.desk.zendesk"),
    "socialdesk.composition.outbound": ("simple_salesforce", "socialdesk.crm.salesforce"),
    "socialdesk.composition.sla_check": ("simple_salesforce", "socialdesk.crm.salesforce"),
}


@pytest.mark.parametrize("root", sorted(NOT_LOADED))
def test_a_composition_root_reaches_no_sdk_its_function_never_calls(root: str) -> None:
    """Given the composition root a handler imports at INIT
    When every module it reaches through socialdesk's imports is collected
    Then none is an SDK (or its adapter) that the function never calls."""
    loaded = {name for name in reached(root) for forbidden in NOT_LOADED[root] if name == forbidden or name.startswith(f"{forbidden}.")}
    assert loaded == set()
