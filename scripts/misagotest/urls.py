"""Misago at the root of the test site, and the JavaScript translation
catalog its templates link to (`django-i18n`)."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("", include("misago.urls", namespace="misago")),
    path("django-i18n.js", JavaScriptCatalog.as_view(), name="django-i18n"),
]
