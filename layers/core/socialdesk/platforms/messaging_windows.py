"""How long after a customer's message each platform lets a business answer: one definition for acknowledgements,
agents' replies, the SLA check's warning and the messaging state shown on the ticket.

Sources: developers.facebook.com/docs/whatsapp/pricing#customer-service-windows (24 hours);
developers.facebook.com/documentation/business-messaging/messenger-platform/policy/ (24 hours, `HUMAN_AGENT` 7 days, 7
days after a Click-to-Messenger/Direct ad: "may last up to 7 days", updated 28 Sep 2026);
developers.facebook.com/documentation/business-messaging/messenger-platform/discovery/private-replies (7 days, one per
comment).
"""

from __future__ import annotations

from datetime import timedelta

MESSAGING_WINDOW = timedelta(hours=24)
"""WhatsApp's customer service window, Messenger's and Instagram's standard messaging window."""
HUMAN_AGENT_WINDOW = timedelta(days=7)
"""Messenger/Instagram with the `HUMAN_AGENT` tag, for apps Meta granted the Human Agent permission."""
AD_MESSAGING_WINDOW = timedelta(days=7)
"""Messenger/Instagram after a customer's first message from a Click-to-Messenger/Direct ad."""
PRIVATE_REPLY_WINDOW = timedelta(days=7)
"""A Facebook/Instagram private reply to a comment, one per comment."""
