"""Policies that are configuration: ticket properties, routing and (later) acknowledgements and SLAs."""
