"""Charts drawn from stored results only (the model never draws, and charts never run it)."""
