"""Typed dependencies: routes reach the shared pipeline through `PipelineDep`."""

from typing import Annotated

from fastapi import Depends, Request

from qa.pipeline import Pipeline


def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
