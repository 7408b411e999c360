"""What every part of the main API shares: errors, authentication, logging, metrics, the admin
site. Imports nothing of the other apps; they register with its hooks."""
