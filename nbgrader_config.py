"""nbgrader configuration for the course (read by `nbgrader` and by `grader/`).

Source notebooks with solutions and hidden tests live in `solutions/NN-slug/NN-slug.ipynb`;
`python -m grader.release` turns them into the learner notebooks in `units/NN-slug/`.
"""

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "agents-from-scratch"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "units"

# What a learner sees in place of each `### BEGIN SOLUTION` ... `### END SOLUTION` block.
c.ClearSolutions.code_stub = {
    "python": 'raise NotImplementedError("Your code here: see the hint above")',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Hidden tests sit between these markers in test cells and are removed from the release.
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# A learner who deletes a test cell does not lose it: autograde puts it back.
c.OverwriteCells.add_missing_cells = True
