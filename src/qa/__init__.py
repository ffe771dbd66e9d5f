"""qa: extractive question answering with verbatim, cited answers.

One subpackage a stage, in order: corpus, embedding, index, question, answer; `pipeline` is
where they meet; then learning and interfaces. The base (`config`, `errors`, `text`) imports no
stage; a stage imports the base and the stages before it, never one after (`lint-imports`).
"""

__version__ = "0.10.0"
