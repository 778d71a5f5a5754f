"""Loopback HTTP servers that speak the RunComfy and NemoVideo contracts, with faults.

Used by the tests (see ``pytest_fixtures``) and by ``manage.py run_simulators`` for
``make run`` when no provider key is set.
"""
