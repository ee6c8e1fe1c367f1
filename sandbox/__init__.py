"""A simulated district: Canvas REST and Infinite Campus OneRoster served from seeded data."""
