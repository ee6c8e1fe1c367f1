"""Fixtures of the API tests: a staff client and the district root account."""

import pytest
from rest_framework.test import APIClient

from tests.api import factories


@pytest.fixture
def staff_client(db: None) -> APIClient:
    return factories.client_for(factories.user())


@pytest.fixture
def root(db: None):
    return factories.school(1, parent=None, name="District")
