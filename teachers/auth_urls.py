"""Sign-in routes: Canvas OAuth2 for teachers, a Django account for staff."""

urlpatterns: list = []
