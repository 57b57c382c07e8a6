"""The CRM port and its Salesforce adapter."""
