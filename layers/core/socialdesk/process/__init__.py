"""The process use case: one canonical event into Zendesk and Salesforce, exactly once."""
