"""The course autograder: fast learner feedback and nbgrader batch grading for instructors.

`agents-grade units/03-react-loop` grades one notebook; `agents-grade --class DIR` grades a
class. Both run nbgrader's own autograde preprocessors (see `grader.autograde`).
"""

import sys

# jsonschema imports the optional `rfc3987_syntax` package (its "iri" format checker) when it
# is installed, and that import compiles a grammar for about 4 seconds. nbformat never
# validates "iri" strings, so the grader opts out; jsonschema treats the package as absent.
# This is most of the start-up time that a plain `nbgrader autograde` pays.
sys.modules.setdefault("rfc3987_syntax", None)
