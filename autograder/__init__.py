"""The course's nbgrader configuration, the release command and the instructor's grading tool."""
