"""The read/write REST API (Django REST framework) under /api/v1/."""
