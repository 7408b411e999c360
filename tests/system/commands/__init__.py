"""The services' commands as an operator runs them: real processes."""
