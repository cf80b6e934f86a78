"""The records users keep and reconcile: the Achievement Summary Report, Payments, Network
organisation relationship and Allocated Reports.

Rooms: ``scope`` (which providers a user may report on: their organisations', a region's, and
those of the organisations that allocated their reports to them), ``selectors`` (reads, a fixed
number of queries per report whatever its rows), ``presenters`` (what the templates show),
``exports`` (CSV and XLSX), ``allocations`` and ``runs`` (the writes: Allocated Reports, and the
reports prepared in the background), ``forms`` and ``views`` (thin).
"""
