"""The pages, one router module per audience."""
