"""Suggestion types, conversational flows that collect them, and the status workflow."""
