"""Data stage: the contract, reading files, validation, and mapping CRM exports onto the contract."""
