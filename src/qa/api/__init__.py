"""The HTTP interface: JSON API (and, later, the web chat) over one shared pipeline."""

from qa.api.app import create_app

__all__ = ["create_app"]
