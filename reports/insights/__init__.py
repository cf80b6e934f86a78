"""Where the money is lost: the commissioner's view of its providers' achievement against the
thresholds and the pounds not earned, and a practice's achievement this year beside last year's.

Rooms: ``rules`` (who may open which screen), ``selectors`` (reads, scoped to the user's
organisations, a fixed number of queries whatever the number of providers), ``presenters`` (what
the templates show: pounds only for money roles), ``charts`` (SVG geometry, pure Python) and
``views`` (thin).
"""
