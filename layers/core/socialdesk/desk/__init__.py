"""The ticketing port (helpdesk) and its Zendesk adapter."""
