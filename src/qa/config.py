"""Settings, from arguments, environment (`QA_CORPUS`, `QA_INDEX`, ...) and defaults."""

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The repository's web/ folder (templates and static files), beside src/.
WEB_DIR = Path(__file__).resolve().parents[2] / "web"
# The feedback database's name in the index folder: beside the builds, which a rebuild
# replaces, and outside what `make clean` removes, so feedback outlives both.
FEEDBACK_FILE = "feedback.sqlite3"


def default_model_cache() -> Path:
    """Where the model's ONNX export is kept: the user's cache folder (XDG), under qa/."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa"


class Settings(BaseSettings):
    """Everything that can be configured; one place for defaults."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    corpus: Path = Path("corpus")
    index: Path = Path("index")
    # Where the index lives: the index folder (`local`: FAISS and bm25s, embedded), or
    # Milvus (`milvus`: a server's URI, or a Milvus Lite file; the `scale` extra).
    backend: Literal["local", "milvus"] = "local"
    # Empty: a Milvus Lite file in the index folder (index/milvus.db).
    milvus_uri: str = ""
    # A Milvus server's credentials ("user:password" or an API key), when it asks for any.
    milvus_token: str = ""
    # Collection names start with it, so one Milvus can hold several indexes.
    milvus_prefix: str = Field("qa", pattern=r"^[A-Za-z][A-Za-z0-9]{0,31}$")
    # How often a server over Milvus checks for a newer build published by another process
    # (`qa index` elsewhere) and switches to it; 0: never.
    follow_seconds: float = Field(10.0, ge=0)
    max_passage_chars: int = Field(800, ge=100, le=5000)
    top_k: int = Field(5, ge=1, le=20)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    web: Path = WEB_DIR
    # The largest valid /api/ask body (a 1,000-character question and 20 turns of 1,000 +
    # 4,000 characters) is about 101,000 characters: even as 3-byte UTF-8 it fits.
    max_body_bytes: int = Field(512 * 1024, ge=1024)
    # Question embeddings kept in memory (0 turns the cache off).
    question_cache: int = Field(4096, ge=0)
    # The engine that runs the model: onnxruntime on an export made once and kept in
    # `model_cache` (no torch at run time), or PyTorch. Both give the same vectors.
    engine: Literal["onnx", "torch"] = "onnx"
    model_cache: Path = Field(default_factory=default_model_cache)
    # Threads of one forward pass; 0 lets the engine use one per core. Several server
    # processes on one machine should share the cores out between them.
    engine_threads: int = Field(0, ge=0, le=256)
    # The learned reader's weights as onnxruntime runs them: int8 (dynamically quantised,
    # the default: measured faster on 2 cores, see README) or float32, as it was trained.
    reader_precision: Literal["int8", "fp32"] = "int8"
    # Question text stays out of the logs unless this is set.
    log_questions: bool = False
    # Rebuild the index in the background when the corpus folder changes (`qa serve` turns
    # it on unless --no-watch).
    watch: bool = False
    # API keys: with any set, every route but /api/health needs one (`Authorization: Bearer
    # KEY`, or a page session signed in with one). Comma-separated, or the path of a file
    # with one key a line.
    api_keys: str = ""
    # Session cookies only over HTTPS (set it when qa is served behind TLS).
    secure_cookies: bool = False
    # Origins whose pages may call the API from a browser (CORS); comma-separated, none by
    # default. "*" allows any origin.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Requests allowed per API key (or per client address without one), e.g. "120/minute";
    # empty: no limit.
    rate_limit: str = ""
    # Where `POST /api/feedback` keeps what users said of answers (SQLite); unset: the
    # index folder's feedback.sqlite3.
    feedback: Path | None = None

    @property
    def milvus_location(self) -> str:
        return self.milvus_uri or str(self.index / "milvus.db")

    @property
    def feedback_path(self) -> Path:
        return self.feedback or self.index / FEEDBACK_FILE

    @field_validator("rate_limit")
    @classmethod
    def _parse_limit(cls, value: str) -> str:
        if value.strip():
            from limits import parse

            try:
                parse(value)
            except ValueError:
                raise ValueError("write it as N/second, N/minute or N/hour") from None
        return value.strip()

    @field_validator("feedback", mode="before")
    @classmethod
    def _unset_if_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value
