"""The demo store `make run` shows: its catalog and the product pictures drawn for it."""
