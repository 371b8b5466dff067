"""Batch scoring: every lead of a CRM export at once, on one machine (``run``) or on Spark (``spark``).

The same answers as the API (``serving.scorer``), as columns: ``tables`` turns a dataset into
``SnapshotArrays`` chunks, ``answers`` scores a chunk, ``output`` writes Parquet or a CRM CSV.
"""
