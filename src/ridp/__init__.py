"""ridp."""
