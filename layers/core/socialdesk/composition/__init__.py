"""The composition root: the one place that builds each function's use case from its settings, once per container.

`ingest` builds the webhook front door and imports nothing of Zendesk or Salesforce; `process` builds the process
use case with its adapters, and rebuilds it when the CRM secret changes. Clients and use cases are created on first
use and cached; in Lambda only, each handler calls its builder's `init()` while it is imported (INIT), which builds
what every request needs ahead of the first one. Importing anything here builds nothing, so tests (or the local
runner) can start a moto mock first and call `reset()` between runs.
"""

from socialdesk.composition.clients import reset

__all__ = ["reset"]
