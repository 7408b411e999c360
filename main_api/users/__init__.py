"""Users, their profiles and site media, the profile fields that refer to uploads, and the URL
replacement that points them at the smart URLs."""
