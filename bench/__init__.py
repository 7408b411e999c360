"""``make bench``: speed, memory and quality of the system, as ratios against references
measured in the same run. Not a test: nothing here asserts; it prints and records."""
