"""View decorators of the teacher pages."""

import functools
from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


def teacher_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send anonymous (or deactivated) users to the sign-in page, coming back here afterwards.

    Which courses a signed-in user may see is decided by ``teachers.access``; this only makes
    sure somebody is signed in.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.is_active:
            return view(request, *args, **kwargs)
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('teachers:login')}?{query}")

    return wrapper
