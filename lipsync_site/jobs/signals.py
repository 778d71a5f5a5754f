"""What the jobs app announces to the floors above it (the API's webhooks) without
knowing them. Sent inside the transaction that made the change: a receiver that records
something commits or rolls back with it."""

from django.dispatch import Signal

# A job reached a terminal state (``jobs.workflow.settle``); kwargs: job (the Job), status.
job_settled = Signal()
