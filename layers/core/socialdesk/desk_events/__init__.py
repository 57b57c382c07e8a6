"""desk_events: Zendesk's webhook about its tickets, verified, parsed and handed to the sinks (agent replies, the clock)."""
