"""The only way a job moves, one module per step.

- ``settle``: the only place a job becomes terminal; settles its credit hold exactly once.
- ``leases``: claim, renew, release and heartbeat of a job's lease.
- ``queue``: enqueue after commit; admission under the running limit.
- ``submit``, ``poll``, ``collect``, ``cancel``, ``review``: the steps.
- ``policy``: intervals, limits, attempt counts and what the owner is told.

The tracker (``jobs.tracker``), the sweep (``jobs.sweep``), the django-q2 tasks
(``jobs.tasks``), the views and moderation call these; none of them writes a job's state.
"""
