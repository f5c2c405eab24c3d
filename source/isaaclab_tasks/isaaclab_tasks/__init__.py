"""Tasks registered with gymnasium."""
