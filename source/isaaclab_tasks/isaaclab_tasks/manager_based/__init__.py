"""Manager-based tasks."""
