"""The course autograder: fast learner feedback and nbgrader batch grading for instructors.

`agents-grade units/03-react-loop` grades one notebook; `agents-grade --class DIR` grades a
class. Both run nbgrader's own autograde preprocessors (see `grader.autograde`).
"""

from grader.startup import skip_unused_imports

skip_unused_imports()
