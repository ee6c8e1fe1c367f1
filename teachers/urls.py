"""The teacher self-service pages under /teacher/: sign-in (auth_urls) and the sync pages
(page_urls)."""

from teachers import auth_urls, page_urls

app_name = "teachers"

urlpatterns = auth_urls.urlpatterns + page_urls.urlpatterns
