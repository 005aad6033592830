"""The rules of exercise authoring and complication; no web, database or broker here."""
