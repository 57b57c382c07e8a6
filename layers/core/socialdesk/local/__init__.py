"""The local runner: the template's functions on this machine, AWS in moto, sandboxes for Zendesk and Salesforce.

Development tooling for `socialdesk local`, `send` and `demo`; no Lambda handler imports it.
"""
