"""Adapters for AWS services; the only package that talks to boto3."""
