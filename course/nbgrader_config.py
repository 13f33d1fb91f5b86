# nbgrader's configuration for a student's copy of the course (my-work/ after `make course`).
# nbgrader reads it from the folder it runs in: JupyterLab's Validate button, started there
# by `make course`, and `make validate NB=01-rnn-basics`.
c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "rnn-course"

# Validate runs the whole notebook in a fresh kernel; as in the instructor's grading, a cell
# may take up to this many seconds (the notebooks' heavy cells shrink while validating).
c.ExecutePreprocessor.timeout = 300

# The kernel's connection is encrypted where pyzmq can (otherwise every kernel warns that it
# runs "over TCP without encryption").
import zmq  # noqa: E402

if zmq.has("curve"):
    c.KernelManager.transport_encryption = "auto"
