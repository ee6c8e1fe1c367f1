"""The sync pages: my courses, a course's sync page, fixes in place, runs and their progress."""

urlpatterns: list = []
