"""Casework pages (stub: filled in by its topic)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
