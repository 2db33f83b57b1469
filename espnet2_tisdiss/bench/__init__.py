"""Benchmarks that print figures (speed, memory); nothing here asserts."""
