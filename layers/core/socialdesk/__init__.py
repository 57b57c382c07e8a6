"""socialdesk: social media webhooks into Zendesk tickets and Salesforce activity history."""
