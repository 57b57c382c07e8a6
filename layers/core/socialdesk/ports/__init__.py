"""Ports more than one use case needs (secrets, queues, blob storage); the adapters in `socialdesk.aws` implement them."""
