"""Operations: a request-size limit, structured request logs, questions kept out of logs, and
the app started by uvicorn from its documented import path."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import free_port, wait_healthy
from qa.config import Settings
from qa.interfaces.http import create_app


@pytest.fixture
def small_limit_client(settings, pipeline):
    limited = settings.model_copy(update={"max_body_bytes": 2048})
    with TestClient(create_app(limited, pipeline=pipeline)) as client:
        yield client


def test_body_over_the_limit_gets_413_before_parsing(small_limit_client):
    response = small_limit_client.post("/api/ask", json={"question": "x" * 5000})
    assert response.status_code == 413
    assert "larger than 2048 bytes" in response.json()["detail"]


def test_chunked_body_over_the_limit_gets_413(small_limit_client):
    def chunks():
        yield b'{"question": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    response = small_limit_client.post(
        "/api/ask", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_largest_valid_request_fits_the_default_limit(client):
    history = [{"question": "q" * 1000, "answer": "a" * 4000}] * 20
    response = client.post("/api/ask", json={"question": "é" * 1000, "history": history})
    assert response.status_code == 200


def test_each_request_is_logged_as_one_json_line_without_the_query(client, caplog):
    with caplog.at_level(logging.INFO, logger="qa.access"):
        client.get("/api/search", params={"q": "a private question"})
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "qa.access"]
    assert records[-1]["method"] == "GET"
    assert records[-1]["path"] == "/api/search"
    assert records[-1]["status"] == 200
    assert records[-1]["ms"] >= 0
    assert "private" not in caplog.text


def test_questions_are_not_logged_unless_asked_for(settings, pipeline, caplog):
    for enabled in (False, True):
        caplog.clear()
        configured = settings.model_copy(update={"log_questions": enabled})
        with (
            TestClient(create_app(configured, pipeline=pipeline)) as client,
            caplog.at_level(logging.INFO),
        ):
            client.post("/api/ask", json={"question": "Where is New Malden?"})
        assert ("New Malden" in caplog.text) is enabled


def test_settings_default_to_a_512_kib_limit_and_no_question_logs():
    defaults = Settings()
    assert defaults.max_body_bytes == 512 * 1024
    assert defaults.log_questions is False


def test_uvicorn_serves_the_app_by_its_documented_import_path(settings, pipeline, tmp_path):
    """`uvicorn qa.api:create_app --factory` (README: workers on one machine) still starts the
    real app, configured from the environment, and it answers as the pipeline does."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    uvicorn = Path(sys.executable).with_name("uvicorn")
    command = [str(uvicorn), "qa.api:create_app", "--factory", "--host", "127.0.0.1"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env |= {"QA_INDEX": str(settings.index), "QA_CORPUS": str(settings.corpus)}
    log = tmp_path / "uvicorn.txt"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_healthy(url, proc, timeout=90)
        health = httpx.get(f"{url}/api/health", timeout=5)
        assert health.json()["documents"] == len(pipeline.index.documents)
        question = "How many North Koreans reside in Canada?"
        served = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=30).json()
        expected = pipeline.ask(question)
        assert served["answered"] is True
        assert served["answer"] == expected.answer.answer
    finally:
        proc.terminate()
        proc.wait(timeout=30)
