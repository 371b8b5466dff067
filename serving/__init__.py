"""leadripe serving: the scoring API the CRM calls. Imports from ``training``, never the reverse."""
