"""The sync pages: my courses, a course's sync page, fixes in place, runs and their progress."""

from django.urls import path

from teachers import views

urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<int:canvas_id>/", views.course_sync, name="course"),
    path("courses/<int:canvas_id>/post/", views.post_grades, name="post_grades"),
    path(
        "courses/<int:canvas_id>/assignments/<int:assignment_id>/fix/",
        views.fix,
        name="fix",
    ),
    path("courses/<int:canvas_id>/history/", views.history, name="history"),
    path("runs/<int:run_id>/", views.run, name="run"),
    path("runs/<int:run_id>/progress.json", views.run_progress_json, name="run_progress"),
]
