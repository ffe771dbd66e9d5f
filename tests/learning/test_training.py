"""`qa train`: a real (small) training run end to end, and the rules it keeps."""

import json

import numpy as np
import pytest

from conftest import REPO, write_corpus
from qa.answer.evidence import FEATURES
from qa.answer.model import MODEL_DIR, AnswerModel, ModelError, read_metadata
from qa.answer.reader import HELD_OUT_FILE
from qa.config import Settings
from qa.learning import training
from qa.learning.reader_training import train_reader
from qa.learning.training import folds, project_sets, set_weights, train
from qa.pipeline import Pipeline, build

LIGHTHOUSE = (
    "The Bell Rock Lighthouse stands off the coast of Angus, Scotland. It was built between "
    "1807 and 1810 by Robert Stevenson. Its light can be seen from 35 miles away. The tower "
    "is 35 metres tall."
)
CANAL = (
    "The Caledonian Canal connects the east coast of Scotland at Inverness with the west "
    "coast at Corpach. It was designed by the engineer Thomas Telford and opened in 1822. "
    "The canal is 97 kilometres long, of which one third is man-made."
)
BRIDGE = (
    "The Forth Bridge is a railway bridge across the Firth of Forth. Construction began in "
    "1882 and it was opened on 4 March 1890. It was designed by John Fowler and Benjamin "
    "Baker. It became a World Heritage Site in 2015."
)
ABBEY = (
    "Melrose Abbey is a partly ruined monastery in the Scottish Borders. It was founded in "
    "1136 by Cistercian monks at the request of King David I. The heart of Robert the Bruce "
    "is said to be buried there."
)
VIADUCT = (
    "The Glenfinnan Viaduct carries the West Highland Line over the River Finnan. It was "
    "built between 1897 and 1898 by Robert McAlpine. It has 21 arches and is 380 metres long."
)
FERRY = (
    "The Corran Ferry crosses Loch Linnhe at the Corran Narrows. The crossing takes about "
    "five minutes. It is run by the Highland Council."
)
SQUAD_A = [
    (
        "Lighthouse",
        LIGHTHOUSE,
        [
            ("Who built the Bell Rock Lighthouse?", "Robert Stevenson"),
            ("How far can its light be seen?", "35 miles"),
            ("Who painted the Bell Rock Lighthouse?", None),
        ],
    ),
    (
        "Canal",
        CANAL,
        [
            ("Who designed the Caledonian Canal?", "Thomas Telford"),
            ("How long is the canal?", "97 kilometres"),
            ("How deep is the Caledonian Canal?", None),
        ],
    ),
]
SQUAD_C = [
    (
        "Viaduct",
        VIADUCT,
        [
            ("Who built the Glenfinnan Viaduct?", "Robert McAlpine"),
            ("How many arches does the viaduct have?", "21"),
            ("Who designed the trains that cross the viaduct?", None),
        ],
    ),
    (
        "Ferry",
        FERRY,
        [
            ("How long does the Corran Ferry crossing take?", "about five minutes"),
            ("Who runs the Corran Ferry?", "the Highland Council"),
            ("How much does the Corran Ferry cost?", None),
        ],
    ),
]


def squad_file(path, articles):
    def article(title, context, qas):
        return {
            "title": title,
            "paragraphs": [
                {
                    "context": context,
                    "qas": [
                        {
                            "id": f"{title}-{i}",
                            "question": q,
                            "is_impossible": a is None,
                            "answers": [] if a is None else [{"text": a, "answer_start": 0}],
                        }
                        for i, (q, a) in enumerate(qas)
                    ],
                }
            ],
        }

    data = {"version": "v2.0", "data": [article(*a) for a in articles]}
    path.write_text(json.dumps(data), encoding="utf-8")


def item(item_id, question, answers, doc, history=()):
    return {
        "id": item_id,
        "question": question,
        "answers": answers,
        "answerable": bool(answers),
        "history": [{"question": q, "answer": a} for q, a in history],
        "doc": doc,
    }


def gold_lines(rows):
    return "\n".join(json.dumps(r) for r in rows) + "\n"


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory):
    return write_benchmarks(tmp_path_factory.mktemp("benchmarks"))


def write_benchmarks(root):
    """A small copy of the shared development sets' layout, written in the test."""
    squad_file(root / "squad2-dev-A.json", SQUAD_A)
    squad_file(root / "squad2-dev-C.json", SQUAD_C)
    write_corpus(root / "nq-dev" / "corpus", {"Forth_Bridge.txt": f"Forth Bridge\n\n{BRIDGE}\n"})
    (root / "nq-dev" / "gold.jsonl").write_text(
        gold_lines(
            [
                item("nq-1", "who designed the forth bridge", ["John Fowler"], "Forth_Bridge.txt"),
                item(
                    "nq-2", "when did the forth bridge open", ["4 March 1890"], "Forth_Bridge.txt"
                ),
            ]
        ),
        encoding="utf-8",
    )
    abbey = {"Melrose.txt": f"Melrose Abbey - History\n\n{ABBEY}\n"}
    write_corpus(root / "quac-dev" / "corpus", abbey)
    first = ("When was it founded?", "It was founded in 1136")
    (root / "quac-dev" / "gold.jsonl").write_text(
        gold_lines(
            [
                item("q-0", first[0], [first[1]], "Melrose.txt"),
                item("q-1", "Who asked for it?", ["King David I"], "Melrose.txt", [first]),
                item("q-2", "Who was its first abbot?", [], "Melrose.txt"),
            ]
        ),
        encoding="utf-8",
    )
    return root


# Fewer trees than `make train` fits: the run tests the machinery, not the model's quality.
TREES = 30


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def as_fresh_clone(tmp_path_factory):
    """The project's committed gold sets as on a fresh clone: a set whose corpus is fetched
    (`made_by`: the real documents) is left out, whether or not this machine fetched it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            training, "project_sets", lambda listing: committed_sets(listing, tmp_path_factory)
        )
        yield


@pytest.fixture(scope="module")
def trained(as_fresh_clone, benchmarks, work, tmp_path_factory, embedder):
    """Trained on the shared sets' small copy and the project's committed gold sets."""
    out = tmp_path_factory.mktemp("model")
    meta = train(REPO, benchmarks, work, out, embedder, echo=lambda _: None, ranker_trees=TREES)
    return out, meta


PROJECT_SETS = training.project_sets


def committed_sets(listing, tmp_path_factory):
    """The listed sets as a fresh clone has them: a fetched corpus is not there."""
    entries = json.loads(listing.read_text(encoding="utf-8"))
    missing = tmp_path_factory.mktemp("not-fetched") / "corpus"
    entries["sets"] = [
        {
            **e,
            "file": str(listing.parent / e["file"]),
            "corpus": str(missing if "made_by" in e else listing.parent / e["corpus"]),
        }
        for e in entries["sets"]
    ]
    copy = tmp_path_factory.mktemp("gold") / "sets.json"
    copy.write_text(json.dumps(entries), encoding="utf-8")
    return PROJECT_SETS(copy)


def test_training_writes_a_model_with_its_data_code_and_scores(trained, benchmarks):
    out, meta = trained
    assert (out / "ranker.txt").is_file()
    written = read_metadata(out)
    assert written == meta
    assert meta["features"] == list(FEATURES)
    assert set(meta["data"]) == {
        "squad-A", "squad-C", "quac-dev", "nq-dev", "gold", "chat", "chat-steam",
    }  # fmt: skip
    assert all(len(d["sha256"]) == 64 and d["questions"] > 0 for d in meta["data"].values())
    assert meta["code"]["qa"]
    assert set(meta["held_out"]) == set(meta["data"])
    for scores in meta["held_out"].values():
        assert 0 <= scores["answer_accuracy"] <= 1
        assert 0 <= scores["abstention_accuracy"] <= 1
    assert 0 < meta["policy"]["threshold"] < 1
    # The turns of sets with conversations are reported apart.
    by_turn = meta["held_out_by_turn"]["quac-dev"]
    assert by_turn["first"]["n"] == 2 and by_turn["later"]["n"] == 1


def test_each_squad_file_is_a_set_with_its_own_corpus(benchmarks, tmp_path):
    sets = {s.name: s for s in training.question_sets(REPO, benchmarks, tmp_path)}
    a, c = sets["squad-A"], sets["squad-C"]
    assert (a.corpus, c.corpus) == (
        tmp_path / "squad2-dev-A-corpus",
        tmp_path / "squad2-dev-C-corpus",
    )
    assert sorted(p.name for p in c.corpus.iterdir()) == ["ferry.txt", "viaduct.txt"]
    assert [i.id for i in c.items] == [f"{t}-{n}" for t in ("Viaduct", "Ferry") for n in range(3)]
    assert {i.doc for i in a.items}.isdisjoint({i.doc for i in c.items})


def test_a_trained_model_loads_and_answers(trained, tmp_path, embedder):
    out, _ = trained
    corpus = write_corpus(tmp_path / "c", {"canal.txt": f"Caledonian Canal\n\n{CANAL}\n"})
    settings = Settings(corpus=corpus, index=tmp_path / "i")
    build(settings, embedder=embedder)
    pipeline = Pipeline.load(settings, embedder=embedder, model=AnswerModel.load(out))
    answer = pipeline.ask("Who designed the Caledonian Canal?").answer
    assert 0 <= answer.confidence <= 1
    for citation in answer.citations:
        text = pipeline.index.documents[citation.doc_id].text
        assert text[citation.start : citation.end] == citation.quote


def test_training_is_reproducible(as_fresh_clone, trained, benchmarks, tmp_path, embedder):
    out, meta = trained
    again = train(
        REPO,
        benchmarks,
        tmp_path / "work",
        tmp_path / "out",
        embedder,
        echo=lambda _: None,
        ranker_trees=TREES,
    )
    assert again["ranker_trees"] == TREES
    assert again["policy"] == meta["policy"]
    assert again["held_out"] == meta["held_out"]
    assert again["decider"] == meta["decider"]
    assert (tmp_path / "out" / "ranker.txt").read_text() == (out / "ranker.txt").read_text()


def test_the_readers_held_out_outputs_reach_training(
    as_fresh_clone, benchmarks, work, tmp_path, embedder
):
    """`qa train-reader` (its folds, not its final fit: the machinery, on the small sets)
    writes held-out outputs that `qa train` finds again and validates three answerers on."""
    reader_dir = tmp_path / "reader"
    meta = train_reader(
        REPO,
        benchmarks,
        work,
        reader_dir,
        embedder=embedder,
        echo=lambda _: None,
        final=False,
        fit_questions=8,
    )
    assert (reader_dir / HELD_OUT_FILE).is_file()
    assert meta["held_out"]["pairs"] > 0
    assert meta["training"]["pairs"] >= meta["held_out"]["pairs"]
    fitted = train(
        REPO,
        benchmarks,
        work,
        tmp_path / "model",
        embedder,
        echo=lambda _: None,
        ranker_trees=TREES,
        reader_dir=reader_dir,
    )
    variants = fitted["held_out_variants"]
    assert {"features", "reader", "combined-1", "combined-3"} <= set(variants)
    shipped = fitted["shipped_variant"]
    assert variants[shipped]["objective"] >= variants["features"]["objective"]
    if shipped == "features":
        assert fitted["policy"]["read"] == 0 and fitted["combiner"] is None
    else:
        assert fitted["policy"]["read"] > 0 and len(fitted["combiner"]["coef"]) == 2
    assert set(fitted["held_out_official"]["features"]) == {"squad-A", "squad-C"}


def test_a_model_fitted_on_other_features_is_refused(tmp_path):
    for name in ("ranker.txt", "model.json"):
        (tmp_path / name).write_bytes((MODEL_DIR / name).read_bytes())
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["features"] = meta["features"][:-1]
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="other features"):
        AnswerModel.load(tmp_path)


def test_a_missing_model_says_how_to_make_it(tmp_path):
    with pytest.raises(ModelError, match="make train"):
        AnswerModel.load(tmp_path)


def test_the_shipped_model_records_what_it_was_fitted_on():
    meta = read_metadata(MODEL_DIR)
    assert {"squad-A", "quac-dev", "nq-dev", "gold", "chat", "chat-steam"} <= set(meta["data"])
    assert meta["features"] == list(FEATURES)
    assert "GroupKFold" in meta["validation"]


class _Item:
    def __init__(self, doc):
        self.doc = doc


class _Example:
    def __init__(self, set_name, doc):
        self.set = set_name
        self.group = doc


def test_folds_never_split_a_document():
    examples = [_Example(f"s{i % 3}", f"doc{i % 11}") for i in range(200)]
    for train_rows, test_rows in folds(examples):
        train_docs = {examples[i].group for i in train_rows}
        assert not train_docs & {examples[i].group for i in test_rows}


def test_every_set_weighs_the_same_whatever_its_size():
    examples = [_Example("big", "d")] * 90 + [_Example("small", "e")] * 10
    weights = set_weights(examples)
    assert np.isclose(weights[:90].sum(), weights[90:].sum())


def test_a_set_whose_corpus_is_not_built_is_left_out_with_the_command_that_builds_it(
    tmp_path, caplog
):
    gold = tmp_path / "gold"
    corpus = write_corpus(gold / "lakes", {"lakes.txt": "Lakes\n\nBlue Lake is deep.\n"})
    line = item("l-1", "how deep is blue lake", ["deep"], "lakes.txt")
    (gold / "lakes.jsonl").write_text(gold_lines([line]), encoding="utf-8")
    (gold / "sets.json").write_text(
        json.dumps(
            {
                "sets": [
                    {"name": "lakes", "file": "lakes.jsonl", "corpus": corpus.name},
                    {
                        "name": "fetched",
                        "file": "lakes.jsonl",
                        "corpus": "not-yet",
                        "made_by": "make fetch-lakes",
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    sets = project_sets(gold / "sets.json")
    assert [s.name for s in sets] == ["lakes"]
    assert "leaving out fetched: its corpus is not built (make fetch-lakes)" in caplog.text
    (gold / "not-yet").mkdir()
    assert [s.name for s in project_sets(gold / "sets.json")] == ["lakes", "fetched"]
