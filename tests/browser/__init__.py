"""The browser tier: headless Chromium against the real system."""
