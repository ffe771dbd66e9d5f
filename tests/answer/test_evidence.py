"""Each candidate's evidence: the numbers the fitted model reads, computed on a real index."""

import numpy as np
import pytest

from qa.answer.evidence import FEATURES, MORE_IS_BETTER, MORE_IS_WORSE


def candidates_for(pipeline, question, history=()):
    reading = pipeline.read(question, history=history)
    return reading, pipeline.candidates(reading, 5)


def row_of(pipeline, found, fragment):
    texts = [pipeline.index.sentence_text(pipeline.index.sentences[s]) for s in found.sentence_ids]
    return next(i for i, t in enumerate(texts) if fragment in t)


def test_feature_names_are_unique_and_constraints_name_real_features():
    assert len(set(FEATURES)) == len(FEATURES)
    assert set(FEATURES) >= MORE_IS_BETTER
    assert set(FEATURES) >= MORE_IS_WORSE
    assert not MORE_IS_BETTER & MORE_IS_WORSE


def test_every_sentence_of_the_retrieved_passages_is_a_candidate(pipeline):
    reading, found = candidates_for(pipeline, "How many North Koreans reside in Canada?")
    expected = [
        s for h in reading.hits[:5] for s in pipeline.index.passages[h.passage_id].sentence_ids
    ]
    assert found.sentence_ids == expected
    assert found.features.shape == (len(expected), len(FEATURES))
    assert np.isfinite(found.features).all()


def test_dense_is_the_cosine_of_question_and_sentence(pipeline):
    reading, found = candidates_for(pipeline, "How many North Koreans reside in Canada?")
    cosine = pipeline.index.sentence_vectors[found.sentence_ids] @ reading.vector[0]
    np.testing.assert_allclose(found.column("dense"), cosine, rtol=1e-5)
    assert found.column("dense_gap").min() == 0


def test_the_sentence_with_the_question_words_covers_them(pipeline):
    _, found = candidates_for(pipeline, "How many North Koreans reside in Canada?")
    row = row_of(pipeline, found, "970 North Koreans reside in Canada")
    assert found.column("coverage")[row] == pytest.approx(1.0)
    assert found.column("has_number")[row] == 1
    assert found.column("type_match")[row] == 1
    assert found.column("figure_missing")[row] == 0


def test_a_name_typed_in_lower_case_must_be_near_the_answer(pipeline):
    _, found = candidates_for(pipeline, "how many north koreans live in canada")
    here = row_of(pipeline, found, "970 North Koreans reside in Canada")
    assert found.column("salient_missing")[here] == 0
    for row, sid in enumerate(found.sentence_ids):
        passage = pipeline.index.passages[pipeline.index.sentences[sid].passage_id]
        text = pipeline.index.passage_text(passage)
        if "Canad" not in text + passage.section:
            assert found.column("salient_missing")[row] > 0


def test_a_negated_question_marks_sentences_without_negation(pipeline):
    _, found = candidates_for(
        pipeline, "Which country does not grant refugee status to North Koreans?"
    )
    row = row_of(pipeline, found, "China does not grant refugee status")
    assert found.column("question_negated")[row] == 1
    assert found.column("negation_match")[row] == 1
    assert found.column("negation_missing")[row] == 0
    assert found.column("negation_missing").max() == 1


def test_question_features_are_the_same_for_every_candidate(pipeline):
    _, found = candidates_for(pipeline, "When did Kim Jong-un take power?")
    for name in ("asks_date", "question_terms", "unknown_terms", "follow_up"):
        assert len(set(found.column(name).tolist())) == 1
    assert found.column("asks_date")[0] == 1


def test_a_quantity_asked_in_a_unit_must_be_stated(pipeline):
    _, found = candidates_for(pipeline, "How much money does the UK pay a North Korean refugee?")
    row = row_of(pipeline, found, "the UK rejected 30 out of 40 asylum applications")
    assert found.column("measure_missing")[row] == 1
    _, found = candidates_for(pipeline, "How many North Koreans reside in Canada?")
    assert found.column("measure_missing").max() == 0


def test_conversation_features_place_each_candidate_against_the_last_answer(pipeline):
    from qa.question.conversation import Turn

    first = "How many North Koreans reside in Canada?"
    answer = pipeline.ask(first).answer
    reading, found = candidates_for(
        pipeline, "And how many in the US?", [Turn(first, answer.answer)]
    )
    quoted = reading.quotes.last
    assert quoted
    column = {
        name: found.column(name) for name in ("quoted_before", "after_quoted", "before_quoted")
    }
    for row, sid in enumerate(found.sentence_ids):
        assert column["quoted_before"][row] == (sid in reading.quotes.earlier)
        same_doc = (
            pipeline.index.sentences[sid].doc_id == pipeline.index.sentences[quoted[-1]].doc_id
        )
        after = sid - quoted[-1]
        before = quoted[0] - sid
        assert column["after_quoted"][row] == pytest.approx(
            1 / after if same_doc and after > 0 else 0
        )
        assert column["before_quoted"][row] == pytest.approx(
            1 / before if same_doc and before > 0 else 0
        )
    # A first question has no conversation to place it in.
    _, alone = candidates_for(pipeline, first)
    for name in ("quoted_before", "after_quoted", "before_quoted"):
        assert not alone.column(name).any()
