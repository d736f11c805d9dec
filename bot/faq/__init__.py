"""FAQ content: tables, the store that owns every query, and the seed loader."""
