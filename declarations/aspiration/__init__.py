"""Aspiration payments (issue 13, ADR 0022): a provider's monthly payments on account of the year.

- ``schedule``: pure helpers over the engine (the twelve instalments and their due dates, what was
  paid by a date);
- ``rules``: who may approve, finance-approve and agree points (maker-checker, as declarations);
- ``services``: the use cases (prepare the ICB's aspirations, agree points, approve in bulk);
- ``selectors``: the reads, scoped to the user's organisations (the commissioner's list and
  monthly schedule, the provider's schedule, the aspiration paid by an achievement date);
- ``views`` and ``urls``: Aspiration Management (commissioner) and Aspiration Payments (provider).
"""
