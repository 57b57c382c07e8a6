"""The response clock: business-time deadlines, SLA policies, the escalation ladder and the scheduled check."""
