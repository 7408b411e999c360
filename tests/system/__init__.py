"""The system tier: the services as real processes (end to end, faults, deployment)."""
