"""GPES extract ingestion, built for the national year-end load (~3.5 million rows in one worker
under 1 GiB; benchmarks/load_national_extract.py).  Rooms by job:

- ``catalogue``: what every row is checked against, loaded once per load;
- ``reader``: the file read once, streaming, every row validated (``ExtractReader``);
- ``copy``: the values COPYed as they are validated, Submission ids handed out, the switch of
  current submissions, list sizes;
- ``aggregate``: Network Contract DES values summed to the PCN, manual values carried forward;
- ``apply``: one load in one transaction (``apply_extract``), and the two ends every load shares
  (``extract_mark_loaded``, ``extract_reject``);
- ``plan``, ``stage``, ``batches``: a large file shared by several workers (off unless
  ``EXTRACT_BATCH_ROWS`` is set): cut into batches, each staged by a task, applied by one final
  transaction.

The use cases that drive them (receive, load, progress) are ``achievement.services``.
"""
