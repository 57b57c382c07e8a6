"""The outbound use case: queued replies sent to the platforms, each at most once, the truth written on the ticket."""
