"""Manipulation tasks."""
