"""Whose account and which decision: the marker, the order record, ownership, decisions."""
