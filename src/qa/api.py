"""`qa.api:create_app`, the app's import path from before the stages were subpackages, kept
for `uvicorn qa.api:create_app --factory` (README, Scaling); the app is in qa.interfaces.http."""

from qa.interfaces.http.app import create_app

__all__ = ["create_app"]
