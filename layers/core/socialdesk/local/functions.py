"""The template's functions as local Lambdas: the handler the template names, loaded from its file, unchanged."""

from __future__ import annotations

import importlib.util
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from socialdesk.observability import metrics

if TYPE_CHECKING:
    from collections.abc import Callable

    from socialdesk.devtools.template_stack import TemplateStack

# One invocation at a time across every function: Powertools' logger and metrics are process-wide here,
# where Lambda gives each function its own container.
_invocations = threading.Lock()


@dataclass
class LocalContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000)


@dataclass
class LocalFunction:
    logical_id: str
    handler: Callable[[dict[str, Any], Any], Any]
    timeout_seconds: int
    memory_mb: int

    def invoke(self, event: dict[str, Any]) -> Any:
        with _invocations:
            try:
                return self.handler(event, LocalContext(self.logical_id, self.memory_mb, self.timeout_seconds))
            finally:
                # Lambda flushes metrics after each invocation; locally they are not printed (see runner), only cleared.
                metrics.clear_metrics()


def load_functions(stack: TemplateStack) -> dict[str, LocalFunction]:
    """Every AWS::Serverless::Function in the template, with the Globals' timeout and memory where it sets none."""
    defaults = stack.template.get("Globals", {}).get("Function", {})
    loaded = {}
    for logical_id in stack.functions:
        path, function_name = stack.function_handler(logical_id)
        spec = importlib.util.spec_from_file_location(f"socialdesk_local_{logical_id}", path)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"{logical_id}: handler file {path} not found")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        properties = stack.resources[logical_id]["Properties"]
        loaded[logical_id] = LocalFunction(
            logical_id=logical_id,
            handler=getattr(module, function_name),
            timeout_seconds=int(properties.get("Timeout", defaults.get("Timeout", 3))),
            memory_mb=int(properties.get("MemorySize", defaults.get("MemorySize", 128))),
        )
    return loaded
