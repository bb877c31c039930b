"""Domain operations. Every function takes a `Session` (keyword `session`) and, where time
matters, a `now`; none of them imports Textual (tests/test_import_hygiene.py checks)."""
