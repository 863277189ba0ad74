"""Calls sent through the OpenAI Batch API at batch prices: request files, submission state,
status, collection and resubmission of failed lines."""
