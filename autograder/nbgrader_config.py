# nbgrader configuration of the course. Instructors run nbgrader from this folder:
#
#     cd autograder && nbgrader generate_assignment 01-rnn-basics --force
#
# (`python -m autograder.release` does the same for every assignment, after rebuilding
# the source notebooks from notebooks/*.py; prefer it, so that solutions/ stays in step.)
#
# The course root is the repository: the instructor's source notebooks live in
# solutions/<assignment>/, the student release in course/<assignment>/, and
# submitted/, autograded/ and feedback/ sit beside them under autograder/, outside the
# committed tree (they are git-ignored), as does the gradebook.
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The seven assignments of the contract, in teaching order; the notebook inside each
# assignment folder has the assignment's name.
ASSIGNMENTS = [
    "01-rnn-basics",
    "02-bptt",
    "03-gradient-problems",
    "04-lstm",
    "05-gru",
    "06-variants",
    "07-applications",
]

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = os.path.join("autograder", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("autograder", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("autograder", "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "raise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The notebooks shrink their heavy cells when NBGRADER_EXECUTION is set, so a
# notebook autogrades well within this limit (07-applications is the slowest).
c.ExecutePreprocessor.timeout = 300
