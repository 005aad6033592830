"""The lowest layer: helpers every other package may use, importing nothing from them.

`sql` (dialect-aware statements and read-only connections), `time` (the injectable clock and
the one RFC 3339 format), `ids` (new identifiers) and `pages` (time windows and cursors of
paginated reads). tests/unit/test_layers.py keeps this package free of imports from above.
"""
