"""The GPB district dashboard Django project."""
