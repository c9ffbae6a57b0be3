"""Simulated hubs for development, tests and benchmarks (`manage.py simulate_hubs`)."""
