"""The conversation store port and its DynamoDB adapter."""
