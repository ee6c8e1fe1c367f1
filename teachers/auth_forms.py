"""The staff sign-in form of the teacher pages (teachers themselves sign in with Canvas)."""

from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from teachers.signin import staff_signin_allowed

WRONG_PASSWORD = (
    "That username and password do not match. Check both (they are case-sensitive). "
    "Teachers: use “Sign in with Canvas” instead."
)
INACTIVE = "This account is turned off. Ask your district admin to turn it on again."
NOT_STAFF = (
    "This account is not a district staff account, so it cannot sign in here. "
    "Teachers: use “Sign in with Canvas” instead."
)


class StaffSignInForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: AbstractBaseUser | None = None

    def clean(self) -> dict:
        cleaned = super().clean()
        username, password = cleaned.get("username"), cleaned.get("password")
        if not username or not password:
            return cleaned
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            raise forms.ValidationError(self._why_refused(username, password))
        if not staff_signin_allowed(user):
            raise forms.ValidationError(NOT_STAFF)
        self.user = user
        return cleaned

    @staticmethod
    def _why_refused(username: str, password: str) -> str:
        # The backend refuses inactive users like wrong passwords; say which it was only to
        # someone who knows the password.
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is not None and not user.is_active and user.check_password(password):
            return INACTIVE
        return WRONG_PASSWORD
