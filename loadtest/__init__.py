"""Locust scenarios against a hub (built by the load-test issue); the only place locust is imported."""
