"""Tensor functions of the Keras backend (filled in by the backend-ops work)."""
