"""What every part of the main API shares: errors, authentication, upload checks."""
