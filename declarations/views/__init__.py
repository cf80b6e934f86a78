"""The Achievement tab's screens, a module per job:

- ``results``: Achievement Results (the list, and one achievement's results);
- ``declare``: Declare (provider), Declare Achievement, the commissioner's tick-box change;
- ``management``: Declaration Management (commissioner), Approve, the CSV export;
- ``detail``: a declaration's page.

Thin: forms validate, selectors read (scoped to the user's organisations), services write and
raise ``accounts.errors`` (404/403 in the middleware, a message by ``DomainErrorsMixin``),
presenters prepare what the templates show.
"""
