"""Users, their profiles and their site media."""
