"""SimPy model of the national hub (built by the simulation issue)."""
