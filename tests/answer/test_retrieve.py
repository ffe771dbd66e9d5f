"""Retrieval puts the passage of the right section first."""

import pytest

from qa.answer.retrieve import retrieve
from qa.text import content_terms


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("How many North Koreans reside in Canada?", "Canada"),
        ("What resettlement benefits does the South Korean government offer?", "South Korea"),
        ("How many asylum applications did the UK reject?", "Europe and the United Kingdom"),
        ("Which boat was found off Kanazawa by the coast guard?", "Japan"),
        ("Why do defectors hide among ethnic Koreans in China?", "China"),
        ("What did the Bush Institute find about refugees choosing America?", "United States"),
        (
            "How does the 1951 convention define a refugee?",
            "North Korean defector activity and definitions",
        ),
    ],
)
def test_right_section_comes_first(pipeline, question, section):
    vector = pipeline.embedder.encode_one(question)
    hits = retrieve(pipeline.index, vector, content_terms(question), 5)
    assert pipeline.index.passages[hits[0].passage_id].section == section


def test_hits_are_sorted_and_bounded(pipeline):
    question = "Where do North Korean refugees settle?"
    vector = pipeline.embedder.encode_one(question)
    hits = retrieve(pipeline.index, vector, content_terms(question), 7)
    assert len(hits) == 7
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.passage_id for h in hits}) == 7


def test_rare_word_the_model_does_not_know_is_found_by_bm25(pipeline):
    hits, _ = pipeline.search("Saeteomin", k=3)
    assert "Saeteomin" in hits[0].text


def test_k_larger_than_the_corpus_returns_every_passage(pipeline):
    hits, _ = pipeline.search("refugees", k=20)
    assert len(hits) == min(20, len(pipeline.index.passages))


def test_retrieval_within_passages_ranks_only_those(pipeline):
    import numpy as np

    question = "How many North Koreans reside in Canada?"
    vector = pipeline.embedder.encode_one(question)
    best = retrieve(pipeline.index, vector, content_terms(question), 3)
    others = np.asarray(
        [p.id for p in pipeline.index.passages if p.id != best[0].passage_id], dtype=np.int64
    )
    hits = retrieve(pipeline.index, vector, content_terms(question), 5, within=others[:4])
    assert sorted(h.passage_id for h in hits) == others[:4].tolist()
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_question_of_other_documents_is_answered_only_from_the_scope(library):
    from conftest import CORPUS_DOC, STEAM_DOC

    question = "Who invented the atmospheric engine?"
    hits, _ = library.search(question, k=100, doc_ids=[CORPUS_DOC])
    assert hits and {h.doc_id for h in hits} == {CORPUS_DOC}
    assert len(hits) == sum(p.doc_id == CORPUS_DOC for p in library.index.passages)
    assert not library.ask(question, doc_ids=[CORPUS_DOC]).answer.answered
    assert library.ask(question, doc_ids=[STEAM_DOC, STEAM_DOC]).answer.answered
