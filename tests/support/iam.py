"""The IAM statements a role of infra/template.yaml holds as deployed, with its `Fn::If` statements resolved."""

from __future__ import annotations

from typing import Any


def statements(role: dict[str, Any], *, true_conditions: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Every statement of the role's inline policies, as deployed with `true_conditions` holding and all others not."""
    found: list[dict[str, Any]] = []
    for policy in role["Properties"].get("Policies", []):
        for written in policy["PolicyDocument"]["Statement"]:
            statement = written
            if "Fn::If" in written:
                condition, when_true, when_false = written["Fn::If"]
                statement = when_true if condition in true_conditions else when_false
            if statement != {"Ref": "AWS::NoValue"}:
                found.append(statement)
    return found
