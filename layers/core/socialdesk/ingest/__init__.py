"""The ingest use case: verify a platform webhook, normalise it, queue one message per event."""
