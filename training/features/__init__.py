"""Features stage: snapshots and labels, and the one feature transformer used by training and serving."""
